from django.urls import URLPattern

app_name = "rehab"
urlpatterns: list[URLPattern] = []
