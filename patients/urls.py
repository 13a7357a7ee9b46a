from django.urls import path

from patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("caseload/", views.caseload, name="caseload"),
    path("<uuid:external_id>/", views.detail, name="detail"),
]
