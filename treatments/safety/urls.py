from django.urls import path

from treatments.safety import views

app_name = "safety"

patient = "patients/<uuid:external_id>/"

urlpatterns = [
    path(patient + "side-effects/", views.side_effects, name="side_effects"),
    path(patient + "pml/", views.pml_risk, name="pml"),
]
