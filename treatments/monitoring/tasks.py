"""Celery entry points for the periodic sweeps: thin; each calls a sweep and returns its counts.

Every sweep is level-triggered (see treatments.monitoring.sweeps), so a beat message that is lost, run
twice, or redelivered after a worker died mid-run (acks_late) changes nothing.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from treatments.monitoring import sweeps
from treatments.plans import duties


@shared_task(name="treatments.sweep_overdue", bind=True)
def sweep_overdue(self: Any) -> dict[str, int]:
    """The beat's overdue sweep. It first asks SWEEP_WORKERS - 1 more workers to join in
    (the same queue, the same expiry as a beat message), then works itself: every participant
    claims chunks with SKIP LOCKED until none is left, so the work spreads over whoever is
    free, and a helper that arrives late finds nothing (an index probe). The counts returned
    are this worker's share. Run inline (eagerly) there is nobody to share with."""
    if not self.request.is_eager:
        queue = (self.request.delivery_info or {}).get("routing_key")
        route = {"queue": queue} if queue else {}
        for _ in range(settings.SWEEP_WORKERS - 1):
            sweep_overdue_part.apply_async(expires=SWEEP_PART_EXPIRES_SECONDS, **route)
    return sweeps.sweep_overdue().as_dict()


SWEEP_PART_EXPIRES_SECONDS = 900


@shared_task(name="treatments.sweep_overdue_part")
def sweep_overdue_part() -> dict[str, int]:
    """A helper of one overdue sweep run (see sweep_overdue): the same work, shared."""
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
