from django.urls import path

from patients.referrals import views as referral_views

app_name = "referrals"
urlpatterns = [
    path("", referral_views.board, name="board"),
    path("targets/", referral_views.targets, name="targets"),
    path("patient/<uuid:external_id>/", referral_views.patient_referrals, name="patient"),
    path("patient/<uuid:external_id>/new/", referral_views.new, name="new"),
    path("<uuid:referral_id>/", referral_views.detail, name="detail"),
    path("<uuid:referral_id>/<slug:action>/", referral_views.act, name="act"),
]
