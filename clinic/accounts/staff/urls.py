from django.urls import path

from clinic.accounts.staff import views

app_name = "staff"
urlpatterns = [
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("users/<int:user_id>/password/", views.user_password, name="user_password"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_new, name="team_new"),
    path("teams/<int:team_id>/", views.team_edit, name="team_edit"),
]
