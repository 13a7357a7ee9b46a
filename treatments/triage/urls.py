from django.urls import path

from treatments.triage import views

urlpatterns = [
    path("patients/<uuid:external_id>/triage/new/", views.triage_new, name="triage_new"),
    path("triage/<int:call_id>/", views.triage_call, name="triage_call"),
    path("triage/<int:call_id>/<str:step>/", views.triage_act, name="triage_act"),
]
