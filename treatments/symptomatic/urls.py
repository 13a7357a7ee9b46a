from django.urls import path

from treatments.symptomatic import views

patient = "patients/<uuid:external_id>/"

urlpatterns = [
    path(patient + "symptomatic/new/", views.symptomatic_new, name="symptomatic_new"),
    path(
        patient + "symptomatic/<int:treatment_id>/stop/",
        views.symptomatic_stop,
        name="symptomatic_stop",
    ),
]
