"""The `fhir:` namespace, mounted at /fhir/ (read-only; see treatments.fhir.views)."""

from django.urls import path

from treatments.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient/<str:external_id>", views.patient_read, name="patient"),
    path("Patient/<str:external_id>/$everything", views.everything, name="everything"),
    path("Group/<str:team_id>/$export", views.group_export, name="group_export"),
]
