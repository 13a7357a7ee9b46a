from django.urls import path

from treatments.summary import views

patient = "patients/<uuid:external_id>/"

urlpatterns = [
    path(patient + "summary/", views.summary, name="summary"),
    path(patient + "summary.pdf", views.summary_pdf, name="summary_pdf"),
]
