"""Celery entry points for result evaluation and PML risk: thin; each calls a service."""

from __future__ import annotations

from celery import shared_task

from treatments.safety import batch, evaluation
from treatments.safety import services as safety_services


@shared_task(name="treatments.evaluate_result")
def evaluate_result(result_id: int) -> int:
    return evaluation.evaluate_result(result_id=result_id)


@shared_task(name="treatments.evaluate_results")
def evaluate_results(result_ids: list[int]) -> int:
    """A lab import's results, in batches (treatments.monitoring.evaluation_queue)."""
    return batch.evaluate_results(result_ids=result_ids)


@shared_task(name="treatments.evaluate_pending_results")
def evaluate_pending_results() -> int:
    """Every few minutes: results whose evaluation task was lost (broker down, a killed
    import); nothing due is one probe of a partial index."""
    return batch.evaluate_pending()


@shared_task(name="treatments.reassess_pml_risk")
def reassess_pml_risk() -> int:
    """Daily: exposure crosses 24 months as time passes, with no new result to trigger it."""
    return safety_services.reassess_all_pml_risk()


@shared_task(name="treatments.reassess_pml_for_patient")
def reassess_pml_for_patient(patient_id: int, reason: str) -> bool:
    """After a change of a patient's natalizumab history (a past therapy entered)."""
    return (
        safety_services.reassess_pml_for_patient(patient_id=patient_id, reason=reason) is not None
    )
