"""Celery entry points for the periodic sweeps: thin; each calls a sweep and returns its counts.

Every sweep is level-triggered (see treatments.monitoring.sweeps), so a beat message that is lost, run
twice, or redelivered after a worker died mid-run (acks_late) changes nothing.
"""

from __future__ import annotations

from celery import shared_task

from treatments.monitoring import sweeps


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
