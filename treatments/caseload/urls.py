from django.urls import path

from treatments.caseload import views

app_name = "caseload"
urlpatterns = [path("", views.caseload, name="page")]
