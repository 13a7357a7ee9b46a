from django.urls import path

from treatments.transplant import views

app_name = "transplant"
urlpatterns = [
    path("patient/<uuid:external_id>/", views.patient, name="patient"),
    path("patient/<uuid:external_id>/record/", views.record, name="record"),
]
