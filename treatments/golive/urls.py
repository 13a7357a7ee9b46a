from django.urls import path

from treatments.golive import views

urlpatterns = [
    path("go-live/", views.golive, name="golive"),
]
