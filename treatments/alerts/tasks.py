"""Celery entry points for alerts: thin; each calls a service and returns a count to log."""

from __future__ import annotations

from celery import shared_task

from treatments.alerts import services as alerts


@shared_task(name="treatments.send_critical_alert_emails")
def send_critical_alert_emails() -> int:
    return alerts.send_critical_alert_emails()


@shared_task(name="treatments.escalate_unacknowledged")
def escalate_unacknowledged() -> int:
    return alerts.escalate_unacknowledged()


@shared_task(name="treatments.wake_snoozed")
def wake_snoozed() -> int:
    return alerts.wake_snoozed()


@shared_task(name="treatments.send_daily_digests")
def send_daily_digests() -> int:
    return alerts.send_daily_digests()
