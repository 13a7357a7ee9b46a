from django.urls import path

from treatments.monitoring import views

patient = "patients/<uuid:external_id>/"

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/book/", views.item_book, name="item_book"),
    path("items/<int:item_id>/waive/", views.item_waive, name="item_waive"),
    path("results/<int:result_id>/review/", views.result_review, name="result_review"),
    path(patient + "results/new/", views.result_new, name="result_new"),
]
