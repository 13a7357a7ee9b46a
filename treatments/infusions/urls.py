from django.urls import path

from treatments.infusions import views

urlpatterns = [
    path("infusions/", views.infusion_day, name="infusion_day"),
    path("patients/<uuid:external_id>/infusions/new/", views.infusion_new, name="infusion_new"),
    path("infusions/<int:visit_id>/", views.infusion_visit, name="infusion_visit"),
]
