"""Evaluating a batch of results at once (a lab import's, treatments.monitoring.evaluation_queue).

The rules are the ones `evaluation.evaluate` applies to a single result, on inputs read by the
same code (treatments.safety.inputs), once for the whole batch; the alerts of the batch are
raised together.

Results of the same patient affect each other's evaluation (an alert one raises, another
resolves), so a patient with more than one result in the batch has them evaluated one by one
in order, as single results are. The batch is one transaction: if anything in it fails, each
of its results is evaluated on its own (and a result that fails alone stays pending for the
sweep).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from treatments.alerts.services import auto_resolve, raise_alerts
from treatments.models import Result
from treatments.safety import evaluation
from treatments.safety.inputs import load_inputs
from treatments.safety.rules import JCV

logger = logging.getLogger("myelin.evaluation")

BATCH = 25  # results a task evaluates together (treatments.monitoring.evaluation_queue)


def evaluate_batch(result_ids: Sequence[int], *, on: date | None = None) -> int:
    """Evaluate the results (see the module docstring); return how many alerts were raised."""
    alone: list[int] = []
    with transaction.atomic():
        results = list(Result.objects.select_for_update().filter(pk__in=result_ids).order_by("pk"))
        standing = [r for r in results if r.is_standing]
        per_patient = Counter(r.patient_id for r in standing)
        together = [r for r in standing if per_patient[r.patient_id] == 1]
        alone = [r.pk for r in standing if per_patient[r.patient_id] > 1]
        settled = [r.pk for r in results if r.evaluation_pending and r.pk not in alone]
        if settled:
            Result.objects.filter(pk__in=settled).update(evaluation_pending=False)
        inputs = load_inputs(together)
        specs, resolutions = [], []
        for result in together:
            outcome = evaluation.evaluate(result, on=on, inputs=inputs[result.pk])
            specs.extend(outcome.specs)
            resolutions.extend(outcome.resolutions)
        created = raise_alerts(specs)
        for ids, note in resolutions:
            auto_resolve(ids, note=note)
    for result in together:
        if result.investigation == JCV:
            from treatments.safety.services import reassess_pml_for_patient

            reassess_pml_for_patient(
                patient_id=result.patient_id, reason=f"JCV result of {result.taken_on:%d %b %Y}"
            )
    return created + evaluation.evaluate_each(alone, on=on)


def evaluate_results(*, result_ids: Sequence[int], on: date | None = None) -> int:
    """Evaluate several saved results (a batch from a lab import) together
    (treatments.safety.batch); return how many alerts they raised. If the batch fails, each is
    evaluated on its own."""
    try:
        return evaluate_batch(result_ids, on=on)
    except Exception:
        logger.exception(
            "Evaluation of a batch of %d results failed; each is evaluated alone", len(result_ids)
        )
    return evaluation.evaluate_each(result_ids, on=on)


# Older than this, a pending result's task is taken as lost rather than still in the queue.
PENDING_GRACE = timedelta(minutes=5)
PENDING_SWEEP_LIMIT = 5000


def evaluate_pending(*, now: datetime | None = None) -> int:
    """The safety net: evaluate every result still marked pending after PENDING_GRACE (its task
    was never queued or never finished). Returns how many were evaluated."""
    before = (now or timezone.now()) - PENDING_GRACE
    ids = list(
        Result.objects.filter(evaluation_pending=True, recorded_at__lt=before)
        .order_by("recorded_at")
        .values_list("pk", flat=True)[:PENDING_SWEEP_LIMIT]
    )
    for start in range(0, len(ids), BATCH):
        evaluate_results(result_ids=ids[start : start + BATCH])
    return len(ids)
