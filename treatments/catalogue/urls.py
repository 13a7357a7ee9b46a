from django.urls import path

from treatments.catalogue import views

urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<slug:drug_key>/", views.drug_detail, name="drug"),
    path("settings/", views.clinic_settings, name="settings"),
    path("settings/reference-ranges/", views.reference_ranges, name="reference_ranges"),
]
