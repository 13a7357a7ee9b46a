from django.urls import path

from patients.emergency import views

app_name = "emergency"
urlpatterns = [path("", views.emergency_access, name="access")]
