"""Evaluating a batch of results at once (a lab import's, treatments.monitoring.evaluation_queue).

The rules are the ones `evaluation.evaluate` applies to a single result, on the same inputs:
only the reading differs. Each input is read with one query for the whole batch rather than
one per result (values, plans, answered items, histories, earlier alerts, doses), and the
alerts of the batch are raised together, so a batch of 25 costs about what two results cost
one by one.

Results of the same patient affect each other's evaluation (an alert one raises, another
resolves), so a patient with more than one result in the batch has them evaluated one by one
in order, as single results are. The batch is one transaction: if anything in it fails, each
of its results is evaluated on its own (and a result that fails alone stays pending for the
sweep).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from treatments.alerts.services import auto_resolve, raise_alerts
from treatments.models import (
    ACTIVE_STATUSES,
    Alert,
    AlertKind,
    DmtAdministration,
    DmtPlan,
    MonitoringItem,
    Result,
    ResultValue,
)
from treatments.safety import evaluation
from treatments.safety.evaluation import Inputs, history_analytes
from treatments.safety.rules import JCV, RESULT_TYPE, History, judging_plan

logger = logging.getLogger("myelin.evaluation")

BATCH = 25  # results a task evaluates together (treatments.monitoring.evaluation_queue)


def load_inputs(results: Sequence[Result]) -> dict[int, Inputs]:
    """The inputs of each result (by id), read for all of them together."""
    if not results:
        return {}
    ids = [r.pk for r in results]
    patients = {r.patient_id for r in results}
    values: dict[int, list[ResultValue]] = defaultdict(list)
    for row in ResultValue.objects.filter(result_id__in=ids):
        values[row.result_id].append(row)
    answering: dict[int, tuple[int, str, int]] = {}
    for result_id, plan_id, rule_key, occurrence in (
        MonitoringItem.objects.filter(result_id__in=ids, plan__isnull=False)
        .order_by("-pk")  # the first item per result wins, as `.first()` would
        .values_list("result_id", "plan_id", "rule_key", "occurrence")
    ):
        answering[result_id] = (plan_id, rule_key, occurrence)
    plans: dict[int, list[DmtPlan]] = defaultdict(list)
    for each_plan in (
        DmtPlan.objects.filter(patient_id__in=patients)
        .select_related("protocol_version", "patient")
        .order_by("-planned_on", "-id")
    ):
        plans[each_plan.patient_id].append(each_plan)

    inputs: dict[int, Inputs] = {}
    wanted: dict[int, set[str]] = {}
    for result in results:
        item = answering.get(result.pk)
        plan = judging_plan(result, plans[result.patient_id], item[0] if item else None)
        answered = (item[1], item[2]) if item and plan and plan.pk == item[0] else None
        protocol = plan.protocol_version.protocol if plan else None
        wanted[result.pk] = history_analytes(result, values[result.pk], protocol)
        inputs[result.pk] = Inputs(
            values=values[result.pk], plan=plan, answered=answered, history=History([])
        )
    _histories(results, inputs, wanted)
    _alerts_and_doses(results, inputs)
    return inputs


def _histories(
    results: Sequence[Result], inputs: dict[int, Inputs], wanted: dict[int, set[str]]
) -> None:
    analytes = set().union(*wanted.values())
    patients = {r.patient_id for r in results}
    values: dict[int, list[ResultValue]] = defaultdict(list)
    for row in ResultValue.objects.filter(
        result__patient_id__in=patients, result__correction="", analyte__in=analytes
    ):
        values[row.result_id].append(row)
    by_patient: dict[int, list[Result]] = defaultdict(list)
    for standing in (
        Result.objects.standing()
        .filter(patient_id__in=patients)
        .filter(Q(investigation__in=analytes) | Q(pk__in=list(values)))
    ):
        by_patient[standing.patient_id].append(standing)
    for result in results:
        inputs[result.pk].history = History.of(
            by_patient[result.patient_id], values, wanted[result.pk]
        )


def _alerts_and_doses(results: Sequence[Result], inputs: dict[int, Inputs]) -> None:
    judged = [r for r in results if inputs[r.pk].plan is not None]
    if not judged:
        return
    alerts: dict[int, list[Alert]] = defaultdict(list)
    for alert in Alert.objects.filter(
        patient_id__in={r.patient_id for r in judged},
        kind=AlertKind.ABNORMAL_RESULT,
        status__in=ACTIVE_STATUSES,
        raised_by_type=RESULT_TYPE,
    ):
        alerts[alert.patient_id].append(alert)
    raised_by = {
        int(a.raised_by_id) for rows in alerts.values() for a in rows if a.raised_by_id.isdigit()
    }
    taken: dict[str, tuple[date, int]] = {
        str(pk): (taken_on, pk)
        for pk, taken_on in Result.objects.filter(pk__in=raised_by).values_list("pk", "taken_on")
    }
    doses: dict[int, list[DmtAdministration]] = defaultdict(list)
    plan_ids = {inputs[r.pk].plan.pk for r in judged}  # type: ignore[union-attr]
    for dose in DmtAdministration.objects.filter(plan_id__in=plan_ids).standing():
        doses[dose.plan_id].append(dose)
    for result in judged:
        each = inputs[result.pk]
        assert each.plan is not None
        each.earlier_alerts = [
            a for a in alerts[result.patient_id] if a.raised_by_id != str(result.pk)
        ]
        each.result_dates = {
            a.raised_by_id: taken[a.raised_by_id]
            for a in each.earlier_alerts
            if a.raised_by_id in taken
        }
        each.administrations = doses[each.plan.pk]


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
