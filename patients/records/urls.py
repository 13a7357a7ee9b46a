from django.urls import path

from patients.records import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:external_id>/", views.detail, name="detail"),
    path("<uuid:external_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:external_id>/timeline/", views.patient_timeline, name="timeline"),
    path("<uuid:external_id>/panels/<slug:key>/", views.panel, name="panel"),
    path("<uuid:external_id>/course/new/", views.course_add, name="course_add"),
    path("<uuid:external_id>/edss/new/", views.edss_add, name="edss_add"),
    path("<uuid:external_id>/edss/preview/", views.edss_preview, name="edss_preview"),
    path("<uuid:external_id>/relapses/new/", views.relapse_add, name="relapse_add"),
    path("<uuid:external_id>/mri/new/", views.mri_add, name="mri_add"),
]
