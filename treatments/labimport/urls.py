"""The `labimport:` namespace, mounted at /labs/ (clinic/urls.py)."""

from django.urls import path

from treatments.labimport import views

app_name = "labimport"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("review/<int:review_id>/", views.review, name="review"),
    path("review/<int:review_id>/reject/", views.reject, name="reject"),
    path("upload/", views.upload, name="upload"),
    path("messages/", views.message_log, name="messages"),
    path("codes/", views.codes, name="codes"),
    path("codes/<int:mapping_id>/delete/", views.code_delete, name="code_delete"),
]
