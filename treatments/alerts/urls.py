from django.urls import path

from treatments.alerts import views as alert_views

app_name = "alerts"
urlpatterns = [
    path("", alert_views.inbox, name="inbox"),
    path("acknowledge/", alert_views.acknowledge_many, name="acknowledge_many"),
    path("<int:alert_id>/acknowledge/", alert_views.acknowledge, name="acknowledge"),
    path("<int:alert_id>/snooze/", alert_views.snooze, name="snooze"),
    path("<int:alert_id>/resolve/", alert_views.resolve, name="resolve"),
]
