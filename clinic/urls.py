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
    path("accounts/emergency/", include("patients.emergency.urls")),
    path("accounts/", include("clinic.accounts.urls")),
    path("staff/", include("clinic.accounts.staff.urls")),
    path("audit/", include("clinic.audit.urls")),
    # The caseload is a patients page built from treatments data (treatments.caseload).
    path("patients/caseload/", include("treatments.caseload.urls")),
    path("patients/", include("patients.records.urls")),
    path("patients/", include("patients.corrections.urls")),
    path("referrals/", include("patients.referrals.urls")),
    path("mdt/", include("patients.mdt.urls")),
    path("supportive/", include("treatments.supportive.urls")),
    path("treatments/", include("treatments.urls")),
    path("rehab/", include("treatments.rehab.urls")),
    path("family/", include("treatments.family.urls")),
    path("transplant/", include("treatments.transplant.urls")),
    path("alerts/", include("treatments.alerts.urls")),
    path("notifications/", include("treatments.notifications.urls")),
    path("safety/", include("treatments.safety.urls")),
    path("labs/", include("treatments.labimport.urls")),
    path("fhir/", include("treatments.fhir.urls")),
    path("quality/", include("treatments.quality.urls")),
    # Patient questionnaires: /pro/... for clinicians, /q/<token>/ for patients (public).
    path("", include("treatments.pro.urls")),
]

handler400 = "clinic.errors.bad_request"
handler403 = "clinic.errors.permission_denied"
handler404 = "clinic.errors.page_not_found"
handler500 = "clinic.errors.server_error"
