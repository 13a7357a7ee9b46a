from django.urls import path

from treatments.plans import views

patient = "patients/<uuid:external_id>/"
plan = patient + "plans/<int:plan_id>/"

urlpatterns = [
    path(patient, views.patient_treatments, name="patient"),
    path(patient + "plans/new/", views.plan_new, name="plan_new"),
    path(patient + "plans/history/", views.plan_history, name="plan_history"),
    path(plan, views.plan_detail, name="plan"),
    path(plan + "start/", views.plan_start, name="plan_start"),
    path(plan + "doses/", views.plan_dose, name="plan_dose"),
    path(plan + "suspend/", views.plan_suspend, name="plan_suspend"),
    path(plan + "resume/", views.plan_resume, name="plan_resume"),
    path(plan + "stop/", views.plan_stop, name="plan_stop"),
    path(plan + "switch/", views.plan_switch, name="plan_switch"),
    path(plan + "conditions/", views.plan_conditions, name="plan_conditions"),
    path(plan + "baseline/", views.plan_baseline_tick, name="plan_baseline"),
]
