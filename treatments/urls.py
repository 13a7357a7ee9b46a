from django.urls import path

from treatments import views

app_name = "treatments"

patient = "patients/<uuid:external_id>/"
plan = patient + "plans/<int:plan_id>/"

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<slug:drug_key>/", views.drug_detail, name="drug"),
    path("settings/", views.clinic_settings, name="settings"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/book/", views.item_book, name="item_book"),
    path("items/<int:item_id>/waive/", views.item_waive, name="item_waive"),
    path("results/<int:result_id>/review/", views.result_review, name="result_review"),
    path(patient, views.patient_treatments, name="patient"),
    path(patient + "plans/new/", views.plan_new, name="plan_new"),
    path(plan, views.plan_detail, name="plan"),
    path(plan + "start/", views.plan_start, name="plan_start"),
    path(plan + "doses/", views.plan_dose, name="plan_dose"),
    path(plan + "suspend/", views.plan_suspend, name="plan_suspend"),
    path(plan + "resume/", views.plan_resume, name="plan_resume"),
    path(plan + "stop/", views.plan_stop, name="plan_stop"),
    path(plan + "switch/", views.plan_switch, name="plan_switch"),
    path(plan + "conditions/", views.plan_conditions, name="plan_conditions"),
    path(plan + "baseline/", views.plan_baseline_tick, name="plan_baseline"),
    path(patient + "results/new/", views.result_new, name="result_new"),
    path(patient + "symptomatic/new/", views.symptomatic_new, name="symptomatic_new"),
    path(
        patient + "symptomatic/<int:treatment_id>/stop/",
        views.symptomatic_stop,
        name="symptomatic_stop",
    ),
]
