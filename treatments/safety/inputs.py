"""What evaluating a result reads (treatments.safety.evaluation), read for one result or for a
batch of them (treatments.safety.batch) by the same code: a query per input for all of them
(values, plans with the item each result answered, histories, earlier alerts, doses), so a
batch of 25 costs about what two results cost one by one."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

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
from treatments.protocols import Protocol, analytes_of
from treatments.safety.gates import gate_history_analytes
from treatments.safety.rules import RESULT_TYPE, History, judging_plan, value_rules


def history_analytes(
    result: Result, values: Sequence[ResultValue], protocol: Protocol | None
) -> set[str]:
    wanted = {row.analyte for row in values} | {result.investigation, "alt", "ast", "bilirubin"}
    if protocol is not None:
        for rule in value_rules(protocol):
            wanted.add(rule.analyte or "")
            wanted.update(c.analyte for c in rule.also)
        wanted |= gate_history_analytes(protocol)
    with contextlib.suppress(LookupError):
        wanted.update(analytes_of(result.investigation))
    wanted.discard("")
    return wanted


@dataclass
class Inputs:
    """What evaluating one result reads."""

    values: list[ResultValue]
    plan: DmtPlan | None
    answered: tuple[str, int] | None
    history: History
    earlier_alerts: list[Alert] = field(default_factory=list)
    result_dates: dict[str, tuple[date, int]] = field(default_factory=dict)
    administrations: list[DmtAdministration] = field(default_factory=list)

    @classmethod
    def load(cls, result: Result) -> Inputs:
        return load_inputs([result])[result.pk]


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
