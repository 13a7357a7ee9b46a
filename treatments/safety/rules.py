"""The rules a result is graded by: readings, comparisons against ULN / LLN / baseline /
absolute thresholds, persistence and confirmation (Hy's law is in `hys_law`, when a rule
applies in `applies`).

`treatments.safety.evaluation` applies them to a saved result; the deliberate choices behind
them are listed there.
"""

from __future__ import annotations

import logging
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q

from treatments import grading, labs
from treatments.alerts.services import AlertSpec
from treatments.models import (
    ACTIVE_STATUSES,
    CURRENT_STATUSES,
    Alert,
    AlertGrade,
    AlertKind,
    DmtPlan,
    Flag,
    PlanStatus,
    Result,
    ResultValue,
)
from treatments.protocols import (
    AlertRule,
    Comparator,
    Criterion,
    Grade,
    Protocol,
    RelativeTo,
    get_investigation,
    investigation_name,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger("myelin.evaluation")

RESULT_TYPE = "treatments.result"
PLAN_TYPE = "treatments.dmtplan"
JCV = "jcv_antibody"

_NUMERIC_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    Comparator.LT: operator.lt,
    Comparator.LE: operator.le,
    Comparator.GT: operator.gt,
    Comparator.GE: operator.ge,
    Comparator.EQ: operator.eq,
    Comparator.NE: operator.ne,
}
_SYMBOLS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "ne": "≠"}
_RULE_IN_KEY = re.compile(r":rule:([A-Za-z0-9_]+)")


# ---------------------------------------------------------------------------------------------
# Readings: one analyte (or one qualitative investigation) at one point in time
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    analyte: str
    taken_on: date
    result_id: int
    value: Decimal | None = None
    unit: str = ""
    lln: Decimal | None = None
    uln: Decimal | None = None
    qualitative: str = ""
    row: ResultValue | None = None

    @property
    def order(self) -> tuple[date, int]:
        return (self.taken_on, self.result_id)

    @property
    def display(self) -> str:
        if self.value is not None:
            text = f"{_plain(self.value)} {self.unit}".strip()
            if self.uln and self.value > self.uln and self.analyte != JCV:
                text += f" ({_plain(grading.times_uln(self.value, self.uln).quantize(Decimal('0.1')))}×ULN)"
            return text
        return self.qualitative or "on file"


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def readings_of(result: Result, values: Sequence[ResultValue]) -> list[Reading]:
    """Every reading a result carries: one per numeric value, plus the investigation itself
    when it is qualitative (JCV with its index, HBsAg, pregnancy test) or a panel (normal if
    every value is within the lab's range, abnormal if any is outside)."""
    readings = [
        Reading(
            analyte=row.analyte,
            taken_on=result.taken_on,
            result_id=result.pk,
            value=row.value,
            unit=row.unit,
            lln=row.lln,
            uln=row.uln,
            row=row,
        )
        for row in values
    ]
    qualitative = result.qualitative
    if _is_genotype(result.investigation):
        # Only a listed genotype answers a genotype gate: an older "normal"/"abnormal" finding
        # says nothing about *3/*3.
        qualitative = result.genotype
    if not qualitative and values and result.investigation not in {r.analyte for r in readings}:
        flags = {row.flag for row in values}
        if flags & {Flag.LOW, Flag.HIGH}:
            qualitative = "abnormal"
        elif flags == {Flag.NORMAL}:
            qualitative = "normal"
    if qualitative or result.index_value is not None:
        readings.append(
            Reading(
                analyte=result.investigation,
                taken_on=result.taken_on,
                result_id=result.pk,
                value=result.index_value,
                unit="index" if result.index_value is not None else "",
                qualitative=qualitative,
            )
        )
    elif result.investigation not in {r.analyte for r in readings}:
        # A result on file (an ECG, an echo without a value) answers "done" gates.
        readings.append(Reading(result.investigation, result.taken_on, result.pk))
    return readings


def _is_genotype(investigation: str) -> bool:
    try:
        return bool(get_investigation(investigation).allowed_values)
    except LookupError:
        return False


class History:
    """A patient's readings of some analytes, oldest first (loaded with two queries)."""

    def __init__(self, readings: Iterable[Reading]) -> None:
        self.by_analyte: dict[str, list[Reading]] = defaultdict(list)
        for reading in sorted(readings, key=lambda r: r.order):
            self.by_analyte[reading.analyte].append(reading)

    @classmethod
    def load(cls, patient_id: int, analytes: Iterable[str]) -> History:
        wanted = set(analytes)
        if not wanted:
            return cls([])
        values: dict[int, list[ResultValue]] = defaultdict(list)
        for row in ResultValue.objects.filter(
            result__patient_id=patient_id, result__correction="", analyte__in=wanted
        ):
            values[row.result_id].append(row)
        # The results named by an analyte, or carrying a value of one (no join, no DISTINCT).
        results = Result.objects.standing().filter(patient_id=patient_id)
        return cls.of(
            results.filter(Q(investigation__in=wanted) | Q(pk__in=list(values))), values, wanted
        )

    @classmethod
    def of(
        cls,
        results: Iterable[Result],
        values: Mapping[int, Sequence[ResultValue]],
        wanted: set[str],
    ) -> History:
        """The history of `wanted` analytes out of standing results and their values (any
        superset: a batch loads them once for several patients and analytes)."""
        readings: list[Reading] = []
        for result in results:
            rows = [row for row in values.get(result.pk, ()) if row.analyte in wanted]
            if result.investigation not in wanted and not rows:
                continue
            readings.extend(r for r in readings_of(result, rows) if r.analyte in wanted)
        return cls(readings)

    def series(self, analyte: str) -> list[Reading]:
        return self.by_analyte.get(analyte, [])

    def same_day(self, analyte: str, day: date) -> Reading | None:
        found = [r for r in self.series(analyte) if r.taken_on == day]
        return found[-1] if found else None

    def before(self, reading: Reading) -> Reading | None:
        earlier = [r for r in self.series(reading.analyte) if r.order < reading.order]
        return earlier[-1] if earlier else None

    def baseline(self, analyte: str, first_dose_on: date | None) -> Reading | None:
        """The last value on or before the first dose (see the module docstring)."""
        if first_dose_on is None:
            return None
        earlier = [r for r in self.series(analyte) if r.taken_on <= first_dose_on]
        return earlier[-1] if earlier else None


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------
def _threshold(value: float | str | None) -> Decimal | None:
    if value is None or isinstance(value, str):
        return None
    return Decimal(str(value))


def comparison_met(
    *,
    comparator: str,
    threshold: float | str | None,
    relative_to: str,
    unit: str,
    reading: Reading,
    baseline: Reading | None,
) -> bool | None:
    """Whether the reading meets the comparison; None when it cannot be told (no reference
    limit, no baseline, no value)."""
    if comparator == Comparator.DONE:
        return True
    if comparator in (
        Comparator.POSITIVE,
        Comparator.NEGATIVE,
        Comparator.ABNORMAL,
        Comparator.NORMAL,
    ):
        if not reading.qualitative:
            return None
        if relative_to == RelativeTo.BASELINE:
            # e.g. JCV seroconversion: negative at baseline, positive now.
            if baseline is None or not baseline.qualitative or baseline.order >= reading.order:
                return None
            return reading.qualitative == comparator and baseline.qualitative != comparator
        return reading.qualitative == comparator
    if comparator == Comparator.NE and isinstance(threshold, str):
        text = reading.qualitative or (reading.row.entered_value if reading.row else "")
        return None if not text else threshold not in text
    limit = _threshold(threshold)
    op = _NUMERIC_OPS.get(comparator)
    if reading.value is None or limit is None or op is None:
        return None
    if relative_to == RelativeTo.ULN:
        return None if not reading.uln else op(reading.value, limit * reading.uln)
    if relative_to == RelativeTo.LLN:
        return None if not reading.lln else op(reading.value, limit * reading.lln)
    if relative_to == RelativeTo.BASELINE:
        if baseline is None or baseline.value is None or baseline.order >= reading.order:
            return None
        if unit == "percentage points":
            return op(reading.value - baseline.value, limit)
        return op(reading.value, limit * baseline.value)
    return op(reading.value, limit)


def describe(
    *, analyte: str, comparator: str, threshold: float | str | None, relative_to: str, unit: str
) -> str:
    name = investigation_name(analyte)
    symbol = _SYMBOLS.get(comparator)
    if symbol is None:
        return f"{name} {comparator}"
    limit = threshold if isinstance(threshold, str) else _plain(Decimal(str(threshold)))
    if relative_to == RelativeTo.ULN:
        return f"{name} {symbol} {limit}×ULN"
    if relative_to == RelativeTo.LLN:
        return f"{name} {symbol} {limit}×LLN" if limit != "1" else f"{name} {symbol} LLN"
    if relative_to == RelativeTo.BASELINE:
        if unit == "percentage points":
            return f"{name} change from baseline {symbol} {limit} points"
        return f"{name} {symbol} {limit}×baseline"
    if analyte in labs.ANALYTES and unit not in ("", "index"):
        unit = labs.get_analyte(analyte).canonical_unit
    return f"{name} {symbol} {limit} {unit}".strip()


# ---------------------------------------------------------------------------------------------
# Plans and protocols
# ---------------------------------------------------------------------------------------------
def judging_plan(
    result: Result, plans: Sequence[DmtPlan], answering_plan: int | None
) -> DmtPlan | None:
    """Out of the patient's plans (newest planned first): the plan of the item the result
    answered, else the plan running on its date, else the current one, else a planned one."""
    for plan in plans:
        if plan.pk == answering_plan:
            return plan
    for plan in plans:
        if (
            plan.started_on is not None
            and plan.started_on <= result.taken_on
            and (plan.stopped_on is None or result.taken_on <= plan.stopped_on)
        ):
            return plan
    for plan in plans:
        if plan.status in CURRENT_STATUSES:
            return plan
    for plan in plans:
        if plan.status == PlanStatus.PLANNED:
            return plan
    return None


def value_rules(protocol: Protocol) -> list[AlertRule]:
    """Alert rules a result can trigger (not clinical events, not missed-test rules)."""
    gated = {gate.analyte or gate.investigation for gate in protocol.dose_gates}
    rules = []
    for rule in protocol.alert_rules:
        if rule.analyte is None or rule.comparator == Comparator.PRESENT:
            continue
        if rule.unit == "days since last result" or rule.analyte == JCV:
            continue
        if rule.grade == Grade.GATE and rule.analyte in gated:
            continue  # the dose gate raises it, with the gate's own text and occurrence
        rules.append(rule)
    return rules


def gate_grade(plan: DmtPlan) -> str:
    return AlertGrade.CRITICAL if plan.status in CURRENT_STATUSES else AlertGrade.WARNING


def _alert_grade(grade: str, plan: DmtPlan) -> str:
    if grade == Grade.GATE:
        return gate_grade(plan)
    return AlertGrade(grade)


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------
def rule_met(
    rule: AlertRule, reading: Reading, *, history: History, first_dose_on: date | None
) -> bool | None:
    def baseline_of(analyte: str) -> Reading | None:
        return history.baseline(analyte, first_dose_on)

    main = comparison_met(
        comparator=rule.comparator,
        threshold=rule.threshold,
        relative_to=rule.relative_to,
        unit=rule.unit,
        reading=reading,
        baseline=baseline_of(reading.analyte),
    )
    if not main:
        return main
    return all(_criterion_met(criterion, reading, history, baseline_of) for criterion in rule.also)


def _criterion_met(
    criterion: Criterion,
    reading: Reading,
    history: History,
    baseline_of: Callable[[str], Reading | None],
) -> bool:
    other = (
        reading
        if criterion.analyte == reading.analyte
        else history.same_day(criterion.analyte, reading.taken_on)
    )
    met = (
        None
        if other is None
        else comparison_met(
            comparator=criterion.comparator,
            threshold=criterion.threshold,
            relative_to=criterion.relative_to,
            unit="",
            reading=other,
            baseline=baseline_of(criterion.analyte),
        )
    )
    if met is None:
        # Unknown: a band's upper bound counts as met, a worsening criterion does not.
        return criterion.comparator in (Comparator.LT, Comparator.LE)
    return met


def _episode_start(
    rule: AlertRule, reading: Reading, *, history: History, first_dose_on: date | None
) -> Reading:
    """The first of the consecutive readings, ending with `reading`, that meet the rule."""
    start = reading
    for earlier in reversed(
        [r for r in history.series(reading.analyte) if r.order < reading.order]
    ):
        if not rule_met(rule, earlier, history=history, first_dose_on=first_dose_on):
            break
        start = earlier
    return start


@dataclass
class Evaluation:
    """What one evaluation decided: alerts to raise and alerts to resolve (with their notes)."""

    specs: list[AlertSpec] = field(default_factory=list)
    resolutions: list[tuple[list[int], str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rule_specs(
    *,
    rule: AlertRule,
    reading: Reading,
    plan: DmtPlan,
    history: History,
    outcome: Evaluation,
    context: str = "",
) -> None:
    first_dose_on = plan.started_on
    if not rule_met(rule, reading, history=history, first_dose_on=first_dose_on):
        return
    patient_id = plan.patient_id
    threshold = describe(
        analyte=rule.analyte or reading.analyte,
        comparator=rule.comparator,
        threshold=rule.threshold,
        relative_to=rule.relative_to,
        unit=rule.unit,
    )
    ctcae = reading.row.ctcae_grade if reading.row and reading.row.ctcae_grade else None
    grade = _alert_grade(rule.grade, plan)
    kind = AlertKind.DOSE_GATE if rule.grade == Grade.GATE else AlertKind.ABNORMAL_RESULT
    name = investigation_name(reading.analyte)
    where = f" ({context})" if context else ""
    base_detail = (
        f"{name} {reading.display} on {reading.taken_on:%d %b %Y}{where} meets the "
        f"{plan.drug_name} rule {threshold}."
    )
    if ctcae:
        base_detail += f" CTCAE grade {ctcae}."
    common = {
        "patient_id": patient_id,
        "kind": kind,
        "source": rule.source,
        "raised_by_type": RESULT_TYPE,
        "raised_by_id": str(reading.result_id),
        "ctcae_grade": ctcae,
    }
    persistence = rule.persistence.strip().lower()
    if persistence == "confirmed on repeat":
        previous = history.before(reading)
        confirmed = previous is not None and rule_met(
            rule, previous, history=history, first_dose_on=first_dose_on
        )
        if not confirmed:
            outcome.specs.append(
                AlertSpec(
                    **common,  # type: ignore[arg-type]
                    grade=AlertGrade.WARNING,
                    action=f"Repeat the test to confirm. If confirmed: {rule.action}",
                    condition_key=f"abnormal:result:{reading.result_id}:rule:{rule.key}:unconfirmed",
                    title=f"{name} {reading.display}: {threshold}{where} — repeat to confirm",
                    detail=base_detail
                    + f" The rule needs confirmation on a repeat test; if confirmed: {rule.grade}.",
                )
            )
            return
        start = _episode_start(rule, reading, history=history, first_dose_on=first_dose_on)
        outcome.specs.append(
            AlertSpec(
                **common,  # type: ignore[arg-type]
                grade=grade,
                action=rule.action,
                condition_key=f"abnormal:patient:{patient_id}:rule:{rule.key}:since:{start.taken_on:%Y-%m-%d}",
                title=f"{name} {reading.display}: {threshold}{where}, confirmed on repeat",
                detail=base_detail + f" Beyond the threshold since {start.taken_on:%d %b %Y}.",
            )
        )
        _supersede_unconfirmed(rule, reading, patient_id, outcome)
        return
    if rule.persistence_days:
        start = _episode_start(rule, reading, history=history, first_dose_on=first_dose_on)
        lasted = (reading.taken_on - start.taken_on).days
        if lasted < rule.persistence_days:
            return
        outcome.specs.append(
            AlertSpec(
                **common,  # type: ignore[arg-type]
                grade=grade,
                action=rule.action,
                condition_key=f"abnormal:patient:{patient_id}:rule:{rule.key}:since:{start.taken_on:%Y-%m-%d}",
                title=f"{name} {threshold} for {rule.persistence} ({reading.display}){where}",
                detail=base_detail
                + f" Every value since {start.taken_on:%d %b %Y} ({lasted} days) is beyond it.",
            )
        )
        return
    outcome.specs.append(
        AlertSpec(
            **common,  # type: ignore[arg-type]
            grade=grade,
            action=rule.action,
            condition_key=f"abnormal:result:{reading.result_id}:rule:{rule.key}",
            title=f"{name} {reading.display}: {threshold}{where}",
            detail=base_detail,
        )
    )


def _supersede_unconfirmed(
    rule: AlertRule, reading: Reading, patient_id: int, outcome: Evaluation
) -> None:
    ids = list(
        Alert.objects.filter(
            patient_id=patient_id,
            status__in=ACTIVE_STATUSES,
            condition_key__endswith=f":rule:{rule.key}:unconfirmed",
        ).values_list("pk", flat=True)
    )
    if ids:
        outcome.resolutions.append(
            (
                ids,
                f"Confirmed by the repeat of {reading.taken_on:%d %b %Y} "
                f"({reading.display}); superseded by the confirmed alert.",
            )
        )


def resolutions_for_normal(
    *,
    rules: Sequence[AlertRule],
    reading: Reading,
    plan: DmtPlan,
    history: History,
    earlier_alerts: Sequence[Alert],
    result_dates: dict[str, tuple[date, int]],
    outcome: Evaluation,
) -> None:
    """A later value back within a rule's threshold resolves that rule's earlier alerts."""
    for rule in rules:
        if rule.analyte != reading.analyte or rule.grade == Grade.GATE:
            continue
        if rule_met(rule, reading, history=history, first_dose_on=plan.started_on) is not False:
            continue
        main = comparison_met(
            comparator=rule.comparator,
            threshold=rule.threshold,
            relative_to=rule.relative_to,
            unit=rule.unit,
            reading=reading,
            baseline=history.baseline(reading.analyte, plan.started_on),
        )
        if main is None:
            continue  # cannot tell (no range): never resolve on a guess
        if main:
            continue  # still beyond the threshold; only a band's other criterion changed
        ids = [
            alert.pk
            for alert in earlier_alerts
            if _rule_of(alert) == rule.key
            and result_dates.get(alert.raised_by_id, reading.order) < reading.order
        ]
        if ids:
            threshold = describe(
                analyte=reading.analyte,
                comparator=rule.comparator,
                threshold=rule.threshold,
                relative_to=rule.relative_to,
                unit=rule.unit,
            )
            outcome.resolutions.append(
                (
                    ids,
                    f"Resolved automatically: {investigation_name(reading.analyte)} "
                    f"{reading.display} on {reading.taken_on:%d %b %Y} is no longer {threshold}.",
                )
            )


def _rule_of(alert: Alert) -> str:
    found = _RULE_IN_KEY.search(alert.condition_key)
    return found.group(1) if found else ""
