from django.urls import path

from treatments.rehab import views as rehab_views

app_name = "rehab"
urlpatterns = [
    path("patient/<uuid:external_id>/", rehab_views.patient, name="patient"),
    path("patient/<uuid:external_id>/sessions/new/", rehab_views.new_session, name="new_session"),
    path("patient/<uuid:external_id>/plans/new/", rehab_views.new_plan, name="new_plan"),
]
