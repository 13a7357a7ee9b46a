from django.urls import path

from patients.corrections import views

app_name = "corrections"
record = "<uuid:external_id>/records/<slug:kind>/<int:record_id>/"
urlpatterns = [
    path(record + "amend/", views.amend, name="amend"),
    path(record + "entered-in-error/", views.entered_in_error, name="error"),
]
