from django.urls import path

from treatments.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.page, name="page"),
]
