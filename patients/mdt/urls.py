from django.urls import path

from patients.mdt import views

app_name = "mdt"
urlpatterns = [
    path("", views.meetings, name="meetings"),
    path("new/", views.meeting_new, name="meeting_new"),
    path("<int:meeting_id>/", views.meeting, name="meeting"),
    path("patient/<uuid:external_id>/add/", views.case_add, name="case_add"),
    path("case/<int:case_id>/", views.case, name="case"),
    path("case/<int:case_id>/actions/", views.action_new, name="action_new"),
    path("actions/", views.my_actions, name="actions"),
    path("actions/<int:action_id>/done/", views.action_done, name="action_done"),
]
