"""Celery entry points for break glass."""

from __future__ import annotations

from celery import shared_task

from patients.emergency import services


@shared_task(name="patients.emergency.notify_admins")
def notify_admins() -> int:
    """Queued after each emergency access request, and run by beat for the messages a burst
    deferred to the next hour; sends what is due, nothing twice."""
    return services.notify_admins()
