"""Result evaluation: a saved result against the plan's pinned alert rules and dose gates.

`evaluate_result(result_id=...)` runs after the result's transaction commits (queued by
`services.record_result` through `evaluation_tasks.evaluate_result`). It is level-triggered and
idempotent: every alert it raises has a condition key naming the rule and the result (or, for
persistence rules, the start of the episode), so evaluating the same result again raises nothing
new, and auto-resolution only touches alerts raised by *earlier* results.

Deliberate choices (each is also stated where it is applied):

* **Which plan.** The plan whose monitoring item the result closed; else the plan the patient
  was on when the sample was taken; else the current plan; else the latest planned one (its
  baseline and first-dose gates). Hy's law needs no plan at all.
* **Baseline** (rules relative to baseline, CTCAE grades of ALT/AST/bilirubin/creatinine): the
  last value of the analyte taken on or before the plan's first dose (a sample taken on the
  morning of the first dose is a pre-dose sample). No pre-dose value, or a plan not started: no
  baseline, and baseline rules are not evaluated (shown as such, never guessed).
* **Criteria on other analytes** (``AlertRule.also``) are read from values taken the same day. A
  missing one that only narrows a band (``lt``/``le``, e.g. "bilirubin ≤ 1×ULN") counts as met,
  so the milder alert still fires; a missing one that would make it worse (``gt``/``ge``) counts
  as not met. Missing data never silences an alert that the value alone justifies.
* **Confirmed on repeat**: the first value beyond the threshold raises a WARNING ("repeat to
  confirm", routed to the nurse who books the repeat); a second consecutive value beyond it
  raises the rule's own grade and supersedes the warning. Its key is the episode start.
* **Persistence over days** (``> 6 months`` = 183 days): every value of the analyte from the
  episode start (the first of the consecutive values beyond the threshold) to this one is beyond
  it, and this one is at least ``persistence_days`` after the start. Key: the episode start.
* **Hy's law** (ALT > 3×ULN and bilirubin > 2×ULN, same day) is CRITICAL on any drug, or none;
  one alert per patient and day, never resolved automatically (a clinician closes it).
* **GATE grade** (§0.3): a failed gate is CRITICAL while the plan is active or suspended (a dose
  could be given; the label says do not dose) and WARNING while the plan is only planned (no drug
  has been given; the plan page shows the blocked start). Alert rules graded GATE whose analyte a
  protocol dose gate already checks are left to the gate, so one failure raises one alert.
* **JCV rules** of natalizumab depend on exposure and prior immunosuppressants, which a value rule
  cannot see: the PML risk engine (`reassess_pml_risk`) evaluates them and raises `pml_risk`.
* **Auto-resolution**: an abnormal alert is resolved when a later value of the same analyte no
  longer meets the rule, with a note naming the value and date; gate alerts when a later result
  passes the gate. Nothing is resolved by a value that cannot be evaluated (no reference range).
"""

from __future__ import annotations

import contextlib
import logging
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from treatments import labs
from treatments.alerts import AlertSpec, auto_resolve, raise_alerts
from treatments.models import (
    ACTIVE_STATUSES,
    CURRENT_STATUSES,
    AdministrationKind,
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
    DoseGate,
    GateEvent,
    Grade,
    Protocol,
    RelativeTo,
    analytes_of,
    get_investigation,
)

if TYPE_CHECKING:
    from patients.models import Patient

logger = logging.getLogger("myelin.evaluation")

RESULT_TYPE = "treatments.result"
PLAN_TYPE = "treatments.dmtplan"
JCV = "jcv_antibody"
HYS_LAW_SOURCE = "CK; CTCAE-v5; fingolimod DHPC-2020 (§0.4)"

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
                text += f" ({_plain(labs.times_uln(self.value, self.uln).quantize(Decimal('0.1')))}×ULN)"
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
        results = list(
            Result.objects.filter(patient_id=patient_id)
            .filter(Q(investigation__in=wanted) | Q(values__analyte__in=wanted))
            .distinct()
        )
        values: dict[int, list[ResultValue]] = defaultdict(list)
        for row in ResultValue.objects.filter(result__patient_id=patient_id, analyte__in=wanted):
            values[row.result_id].append(row)
        readings = [
            reading
            for result in results
            for reading in readings_of(result, values.get(result.pk, []))
            if reading.analyte in wanted
        ]
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
    name = _analyte_name(analyte)
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


def _analyte_name(key: str) -> str:
    try:
        return get_investigation(key).name
    except LookupError:
        return key


# ---------------------------------------------------------------------------------------------
# Plans and protocols
# ---------------------------------------------------------------------------------------------
def plan_for_result(result: Result) -> DmtPlan | None:
    """The plan a result is judged under (see the module docstring)."""
    item_plan = (
        DmtPlan.objects.filter(items__result=result).select_related("protocol_version").first()
    )
    if item_plan is not None:
        return item_plan
    plans = list(
        DmtPlan.objects.filter(patient_id=result.patient_id)
        .select_related("protocol_version")
        .order_by("-planned_on", "-id")
    )
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


def _value_rules(protocol: Protocol) -> list[AlertRule]:
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


def _gate_grade(plan: DmtPlan) -> str:
    return AlertGrade.CRITICAL if plan.status in CURRENT_STATUSES else AlertGrade.WARNING


def _alert_grade(grade: str, plan: DmtPlan) -> str:
    if grade == Grade.GATE:
        return _gate_grade(plan)
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


def _rule_specs(
    *,
    rule: AlertRule,
    reading: Reading,
    plan: DmtPlan,
    history: History,
    outcome: Evaluation,
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
    name = _analyte_name(reading.analyte)
    base_detail = (
        f"{name} {reading.display} on {reading.taken_on:%d %b %Y} meets the {plan.drug_name} "
        f"rule {threshold}."
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
                    title=f"{name} {reading.display}: {threshold} — repeat to confirm",
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
                title=f"{name} {reading.display}: {threshold}, confirmed on repeat",
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
                title=f"{name} {threshold} for {rule.persistence} ({reading.display})",
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
            title=f"{name} {reading.display}: {threshold}",
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


def _resolutions_for_normal(
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
                    f"Resolved automatically: {_analyte_name(reading.analyte)} "
                    f"{reading.display} on {reading.taken_on:%d %b %Y} is no longer {threshold}.",
                )
            )


def _rule_of(alert: Alert) -> str:
    found = _RULE_IN_KEY.search(alert.condition_key)
    return found.group(1) if found else ""


# ---------------------------------------------------------------------------------------------
# Hy's law
# ---------------------------------------------------------------------------------------------
def hys_law_spec(*, result: Result, history: History) -> AlertSpec | None:
    """ALT > 3×ULN and bilirubin > 2×ULN taken the same day, whatever the drug (§0.4)."""
    day = result.taken_on
    alt = history.same_day("alt", day)
    bilirubin = history.same_day("bilirubin", day)
    if alt is None or bilirubin is None or alt.value is None or bilirubin.value is None:
        return None
    if not alt.uln or not bilirubin.uln:
        return None
    if not labs.hys_law_from_values(
        alt=alt.value, alt_uln=alt.uln, bilirubin=bilirubin.value, bilirubin_uln=bilirubin.uln
    ):
        return None
    ctcae = alt.row.ctcae_grade if alt.row and alt.row.ctcae_grade else None
    return AlertSpec(
        patient_id=result.patient_id,
        kind=AlertKind.ABNORMAL_RESULT,
        grade=AlertGrade.CRITICAL,
        condition_key=f"hys_law:patient:{result.patient_id}:on:{day:%Y-%m-%d}",
        title=f"Hy's law pattern: ALT {alt.display} and bilirubin {bilirubin.display}",
        detail=(
            f"ALT > 3×ULN and total bilirubin > 2×ULN on {day:%d %b %Y}: possible severe "
            "drug-induced liver injury, whatever the drug."
        ),
        action="Same-day review: stop or withhold hepatotoxic drugs, exclude other causes, "
        "repeat liver tests with INR.",
        source=HYS_LAW_SOURCE,
        raised_by_type=RESULT_TYPE,
        raised_by_id=str(result.pk),
        ctcae_grade=ctcae,
    )


# ---------------------------------------------------------------------------------------------
# Dose gates
# ---------------------------------------------------------------------------------------------
class GateState:
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"
    UNKNOWN = "unknown"


GATE_STATE_LABELS = {
    GateState.MET: "Met",
    GateState.NOT_MET: "Not met",
    GateState.MISSING: "No qualifying result",
    GateState.UNKNOWN: "Cannot be judged (no reference range or baseline)",
}


@dataclass(frozen=True)
class GateCheck:
    index: int
    gate: DoseGate
    event_label: str
    occurrence: int
    state: str
    reading: Reading | None = None

    @property
    def state_label(self) -> str:
        return GATE_STATE_LABELS[self.state]

    @property
    def is_blocking(self) -> bool:
        return self.state != GateState.MET


def _gate_analyte(gate: DoseGate) -> str:
    return gate.analyte or gate.investigation


def _next_event(plan: DmtPlan, before: str, given: Sequence[tuple[str, date]]) -> int | None:
    """Which dose or course of `before`'s kind comes next (1 = the first), or None if the gate
    does not apply to the plan now."""
    if plan.status == PlanStatus.STOPPED:
        return None
    if before == GateEvent.FIRST_DOSE:
        return 1 if plan.status == PlanStatus.PLANNED else None
    kinds = (
        {AdministrationKind.COURSE}
        if before == GateEvent.EACH_COURSE
        else {AdministrationKind.COURSE, AdministrationKind.DOSE}
    )
    return sum(1 for kind, _ in given if kind in kinds) + 1


def _gate_applies(gate: DoseGate, occurrence: int | None, patient: Patient) -> bool:
    if occurrence is None or occurrence < gate.from_occurrence:
        return False
    if gate.to_occurrence is not None and occurrence > gate.to_occurrence:
        return False
    if gate.investigation == "pregnancy_test":
        return getattr(patient, "sex", "") == "female"
    return True


def _event_label(before: str, occurrence: int) -> str:
    if before == GateEvent.FIRST_DOSE:
        return "before the first dose"
    noun = "course" if before == GateEvent.EACH_COURSE else "dose"
    return f"before {noun} {occurrence}"


def _gate_qualifies(
    reading: Reading, gate: DoseGate, *, last_given_on: date | None, on: date
) -> bool:
    """A pre-dose check counts if taken after the previous dose and within the gate's window."""
    if (
        last_given_on is not None
        and gate.before != GateEvent.FIRST_DOSE
        and reading.taken_on <= last_given_on
    ):
        return False
    return not (
        gate.within_days is not None and reading.taken_on < on - timedelta(days=gate.within_days)
    )


def _gate_result(gate: DoseGate, reading: Reading, history: History, plan: DmtPlan) -> str:
    met = comparison_met(
        comparator=gate.comparator,
        threshold=gate.threshold,
        relative_to=gate.relative_to,
        unit=gate.unit,
        reading=reading,
        baseline=history.baseline(reading.analyte, plan.started_on),
    )
    if met is None:
        return GateState.UNKNOWN
    return GateState.MET if met else GateState.NOT_MET


def _gate_history_analytes(protocol: Protocol) -> set[str]:
    return {_gate_analyte(g) for g in protocol.dose_gates}


def gate_status(
    plan: DmtPlan, *, on: date | None = None, history: History | None = None
) -> list[GateCheck]:
    """The dose gates for the plan's next dose or course, each with its latest qualifying
    reading and whether it is met (for the plan page and the patient's safety panel).

    Fixed queries: the plan's administrations and the patient's results for the gates."""
    on = on or timezone.localdate()
    protocol = plan.protocol_version.protocol
    if not protocol.dose_gates:
        return []
    given = list(plan.administrations.values_list("kind", "given_on"))
    last_given_on = max((d for _, d in given), default=None)
    history = history or History.load(plan.patient_id, _gate_history_analytes(protocol))
    checks = []
    for index, gate in enumerate(protocol.dose_gates):
        occurrence = _next_event(plan, gate.before, given)
        if not _gate_applies(gate, occurrence, plan.patient):
            continue
        assert occurrence is not None
        qualifying = [
            r
            for r in history.series(_gate_analyte(gate))
            if _gate_qualifies(r, gate, last_given_on=last_given_on, on=on)
        ]
        reading = qualifying[-1] if qualifying else None
        state = GateState.MISSING if reading is None else _gate_result(gate, reading, history, plan)
        checks.append(
            GateCheck(
                index=index,
                gate=gate,
                event_label=_event_label(gate.before, occurrence),
                occurrence=occurrence,
                state=state,
                reading=reading,
            )
        )
    return checks


def _gate_key_prefix(plan: DmtPlan, check: GateCheck) -> str:
    return f"gate:plan:{plan.pk}:gate:{check.index}:{check.gate.before}:{check.occurrence}:"


def _gate_outcome(
    *, plan: DmtPlan, result: Result, history: History, on: date, outcome: Evaluation
) -> None:
    for check in gate_status(plan, on=on, history=history):
        reading = check.reading
        if reading is None or reading.result_id != result.pk:
            continue
        prefix = _gate_key_prefix(plan, check)
        if check.state == GateState.NOT_MET:
            gate = check.gate
            outcome.specs.append(
                AlertSpec(
                    patient_id=plan.patient_id,
                    kind=AlertKind.DOSE_GATE,
                    grade=_gate_grade(plan),
                    condition_key=f"{prefix}result:{result.pk}",
                    title=f"{plan.drug_name} {check.event_label}: {gate.text}",
                    detail=(
                        f"{_analyte_name(reading.analyte)} {reading.display} on "
                        f"{reading.taken_on:%d %b %Y} does not meet the gate. Do not give the "
                        f"{'course' if gate.before == GateEvent.EACH_COURSE else 'dose'} until "
                        "it is met."
                    ),
                    action=gate.text,
                    source=gate.source,
                    raised_by_type=RESULT_TYPE,
                    raised_by_id=str(result.pk),
                    ctcae_grade=reading.row.ctcae_grade
                    if reading.row and reading.row.ctcae_grade
                    else None,
                )
            )
        elif check.state == GateState.MET:
            ids = list(
                Alert.objects.filter(
                    patient_id=plan.patient_id,
                    kind=AlertKind.DOSE_GATE,
                    status__in=ACTIVE_STATUSES,
                    condition_key__startswith=prefix,
                )
                .exclude(raised_by_id=str(result.pk))
                .values_list("pk", flat=True)
            )
            if ids:
                outcome.resolutions.append(
                    (
                        ids,
                        f"Gate met by {_analyte_name(reading.analyte)} {reading.display} on "
                        f"{reading.taken_on:%d %b %Y}.",
                    )
                )


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------
def _store_ctcae_grades(
    values: Sequence[ResultValue], history: History, plan: DmtPlan | None
) -> int:
    """Grade each value again with the patient's baseline (ALT/AST/bilirubin above ULN at
    baseline, creatinine × baseline); `record_result` graded them without it."""
    changed = []
    for row in values:
        baseline = history.baseline(row.analyte, plan.started_on) if plan else None
        if baseline is None or baseline.result_id == row.result_id or baseline.value is None:
            continue
        try:
            grade = labs.ctcae_grade(
                row.analyte, row.value, lln=row.lln, uln=row.uln, baseline=baseline.value
            )
        except (labs.MissingReferenceLimit, labs.UnknownAnalyte):
            continue
        if grade != row.ctcae_grade:
            row.ctcae_grade = grade
            changed.append(row)
    if changed:
        ResultValue.objects.bulk_update(changed, ["ctcae_grade"])
    return len(changed)


def _history_analytes(
    result: Result, values: Sequence[ResultValue], protocol: Protocol | None
) -> set[str]:
    wanted = {row.analyte for row in values} | {result.investigation, "alt", "bilirubin"}
    if protocol is not None:
        for rule in _value_rules(protocol):
            wanted.add(rule.analyte or "")
            wanted.update(c.analyte for c in rule.also)
        wanted |= _gate_history_analytes(protocol)
    with contextlib.suppress(LookupError):
        wanted.update(analytes_of(result.investigation))
    wanted.discard("")
    return wanted


def evaluate(result: Result, *, on: date | None = None) -> Evaluation:
    """Decide what a result raises and resolves (no writes except CTCAE grades)."""
    on = on or timezone.localdate()
    values = list(result.values.all())
    plan = plan_for_result(result)
    protocol = plan.protocol_version.protocol if plan else None
    history = History.load(result.patient_id, _history_analytes(result, values, protocol))
    _store_ctcae_grades(values, history, plan)
    # This result's readings carry the re-graded rows (the history's copies were loaded first).
    readings = readings_of(result, values)
    outcome = Evaluation()
    hys = hys_law_spec(result=result, history=history)
    if hys is not None:
        outcome.specs.append(hys)
    if plan is None or protocol is None:
        return outcome
    rules = _value_rules(protocol)
    earlier_alerts = list(
        Alert.objects.filter(
            patient_id=result.patient_id,
            kind=AlertKind.ABNORMAL_RESULT,
            status__in=ACTIVE_STATUSES,
            raised_by_type=RESULT_TYPE,
        ).exclude(raised_by_id=str(result.pk))
    )
    result_dates = {
        str(pk): (taken_on, pk)
        for pk, taken_on in Result.objects.filter(
            pk__in=[int(a.raised_by_id) for a in earlier_alerts if a.raised_by_id.isdigit()]
        ).values_list("pk", "taken_on")
    }
    for reading in readings:
        for rule in rules:
            if rule.analyte == reading.analyte:
                _rule_specs(rule=rule, reading=reading, plan=plan, history=history, outcome=outcome)
        _resolutions_for_normal(
            rules=rules,
            reading=reading,
            plan=plan,
            history=history,
            earlier_alerts=earlier_alerts,
            result_dates=result_dates,
            outcome=outcome,
        )
    _gate_outcome(plan=plan, result=result, history=history, on=on, outcome=outcome)
    return outcome


def evaluate_result(*, result_id: int, on: date | None = None) -> int:
    """Evaluate a saved result; return how many alerts this call raised. Idempotent."""
    try:
        result = Result.objects.get(pk=result_id)
    except Result.DoesNotExist:
        logger.warning("Result %s to evaluate no longer exists", result_id)
        return 0
    with transaction.atomic():
        outcome = evaluate(result, on=on)
        created = raise_alerts(outcome.specs)
        for ids, note in outcome.resolutions:
            auto_resolve(ids, note=note)
    if result.investigation == JCV:
        from treatments.safety_services import reassess_pml_for_patient

        reassess_pml_for_patient(
            patient_id=result.patient_id, reason=f"JCV result of {result.taken_on:%d %b %Y}"
        )
    return created
