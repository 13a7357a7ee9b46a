from django.urls import path

from patients import referral_views

app_name = "referrals"
urlpatterns = [
    path("", referral_views.board, name="board"),
]
