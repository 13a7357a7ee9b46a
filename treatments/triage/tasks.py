"""Celery entry point for the triage clock's sweep (beat: every 15 minutes, clinic/settings.py)."""

from __future__ import annotations

from celery import shared_task

from treatments.triage import sweeps


@shared_task(name="treatments.sweep_triage_breaches")
def sweep_triage_breaches() -> dict[str, int]:
    return sweeps.sweep_triage_breaches()
