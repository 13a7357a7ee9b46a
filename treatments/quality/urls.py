from django.urls import path

from treatments.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export, name="export"),
    path("patients/<slug:figure>/", views.drill, name="drill"),
]
