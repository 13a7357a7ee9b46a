from django.urls import include, path

from clinic import views

clinic_patterns = (
    [path("status/", views.status, name="status")],
    "clinic",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("system/", include(clinic_patterns)),
    path("accounts/", include("clinic.accounts.urls")),
    path("staff/", include("clinic.accounts.staff.urls")),
    path("audit/", include("clinic.audit.urls")),
    path("patients/", include("patients.urls")),
    path("referrals/", include("patients.referral_urls")),
    path("treatments/", include("treatments.urls")),
    path("rehab/", include("treatments.rehab_urls")),
    path("alerts/", include("treatments.alert_urls")),
    path("safety/", include("treatments.side_effect_urls")),
]

handler403 = "clinic.errors.permission_denied"
handler404 = "clinic.errors.page_not_found"
handler500 = "clinic.errors.server_error"
