"""Celery entry points for the periodic sweeps: thin; each calls a sweep and returns its counts.

Every sweep is level-triggered (see treatments.monitoring.sweeps), so a beat message that is lost, run
twice, or redelivered after a worker died mid-run (acks_late) changes nothing.
"""

from __future__ import annotations

from celery import shared_task

from treatments.monitoring import sweeps
from treatments.plans import duties


@shared_task(name="treatments.sweep_overdue")
def sweep_overdue() -> dict[str, int]:
    return sweeps.sweep_overdue().as_dict()


@shared_task(name="treatments.sweep_due_soon")
def sweep_due_soon() -> dict[str, int]:
    return sweeps.sweep_due_soon().as_dict()


@shared_task(name="treatments.sweep_breached_referrals")
def sweep_breached_referrals() -> dict[str, int]:
    return sweeps.sweep_breached_referrals().as_dict()


@shared_task(name="treatments.sweep_missing_edss")
def sweep_missing_edss() -> dict[str, int]:
    return sweeps.sweep_missing_edss().as_dict()


@shared_task(name="treatments.sweep_extend_monitoring")
def sweep_extend_monitoring() -> dict[str, int]:
    return sweeps.sweep_extend_monitoring().as_dict()


@shared_task(name="treatments.close_reviews_by_edss")
def close_reviews_by_edss(patient_id: int) -> int:
    """Queued by name when an EDSS is recorded on the patient record (settings
    EDSS_RECORDED_TASKS): close the neurology review it answers. The daily sync does the same."""
    return duties.close_reviews_by_edss(patient_ids=[patient_id])
