"""Celery entry point for the quality dashboard: thin; it calls the service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from treatments.quality import services


@shared_task(name="treatments.refresh_quality_dashboard")
def refresh_quality_dashboard() -> bool:
    """Keep the whole clinic's figures worked out; False when figures are not kept."""
    return services.refresh_whole_clinic(today=timezone.localdate()) is not None
