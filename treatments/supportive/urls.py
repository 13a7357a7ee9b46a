from django.urls import path

from treatments.supportive import views

app_name = "supportive"
urlpatterns = [
    path("", views.overdue, name="overdue"),
    path("patient/<uuid:external_id>/", views.patient_plan, name="patient"),
    path("patient/<uuid:external_id>/new/", views.goal_new, name="goal_new"),
    path("goal/<int:goal_id>/", views.goal, name="goal"),
]
