from django.urls import path

from treatments import views

app_name = "treatments"
urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("catalogue/", views.catalogue, name="catalogue"),
]
