from django.urls import path

from treatments.pro import views

app_name = "pro"
urlpatterns = [
    # The clinician's pages (signed in, scoped like every patient page).
    path("pro/patient/<uuid:external_id>/send/", views.send, name="send"),
    path("pro/links/<int:link_id>/", views.link, name="link"),
    path("pro/links/<int:link_id>/withdraw/", views.revoke, name="revoke"),
    # The patient's pages: public, reached only with a signed token (?t=..., see views._token).
    path("q/", views.start, name="start"),
    path("q/answers/", views.answer, name="answer"),
]
