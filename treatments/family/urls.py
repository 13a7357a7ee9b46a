from django.urls import path

from treatments.family import views

app_name = "family"
urlpatterns = [
    path("patient/<uuid:external_id>/", views.patient, name="patient"),
    path("patient/<uuid:external_id>/plan/", views.plan, name="plan"),
    path("patient/<uuid:external_id>/levels/", views.level, name="level"),
    path("patient/<uuid:external_id>/pregnancy/", views.pregnancy, name="pregnancy"),
    # Ends the patient's ongoing pregnancy (there is at most one: one_ongoing_pregnancy).
    path("patient/<uuid:external_id>/pregnancy/end/", views.pregnancy_end, name="pregnancy_end"),
]
