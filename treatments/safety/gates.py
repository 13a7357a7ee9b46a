"""Dose gates: what must be true before the next dose, course or infusion of a plan, read from
the plan's pinned protocol and the patient's latest qualifying results."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from treatments.alerts.services import AlertSpec
from treatments.models import (
    ACTIVE_STATUSES,
    AdministrationKind,
    Alert,
    AlertKind,
    DmtPlan,
    PlanStatus,
    Result,
)
from treatments.protocols import (
    DoseGate,
    GateEvent,
    Protocol,
    analytes_of,
    investigation_name,
)
from treatments.safety.rules import (
    RESULT_TYPE,
    Evaluation,
    History,
    Reading,
    comparison_met,
    gate_grade,
)

if TYPE_CHECKING:
    from patients.models import Patient

logger = logging.getLogger("myelin.evaluation")


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


def _next_event(
    plan: DmtPlan, before: str, given: Sequence[tuple[str, date]], max_courses: int | None
) -> int | None:
    """Which dose or course of `before`'s kind comes next (1 = the first), or None if the gate
    does not apply to the plan now. After the last course a protocol allows there is no next
    course to gate (the course limit itself refuses one): no gate speaks of "course 3"."""
    if plan.status == PlanStatus.STOPPED:
        return None
    if before == GateEvent.FIRST_DOSE:
        return 1 if plan.status == PlanStatus.PLANNED else None
    kinds = (
        {AdministrationKind.COURSE}
        if before == GateEvent.EACH_COURSE
        else {AdministrationKind.COURSE, AdministrationKind.DOSE}
    )
    following = sum(1 for kind, _ in given if kind in kinds) + 1
    if before == GateEvent.EACH_COURSE and max_courses is not None and following > max_courses:
        return None
    return following


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
    """A pre-dose check counts if taken after the previous dose, within the gate's window, and
    not after the day the dose is judged for."""
    if reading.taken_on > on:
        return False
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


def gate_history_analytes(protocol: Protocol) -> set[str]:
    """What the gates read: each gate's analyte, and the values of a panel judged as a whole
    ("normal liver tests" is normal when every value is within its lab's range)."""
    wanted = set()
    for gate in protocol.dose_gates:
        wanted.add(_gate_analyte(gate))
        if gate.analyte is None:
            with contextlib.suppress(LookupError):
                wanted.update(analytes_of(gate.investigation))
    return wanted


def gate_status(
    plan: DmtPlan,
    *,
    on: date | None = None,
    history: History | None = None,
    given: Sequence[tuple[str, date]] | None = None,
) -> list[GateCheck]:
    """The dose gates for the plan's next dose or course, each with its latest qualifying
    reading and whether it is met (for the plan page and the patient's safety panel).

    `given` (kind, date) are the administrations before the one judged (default: all of the
    plan's); `on` is the day it is judged for. Fixed queries: the plan's administrations and the
    patient's results for the gates."""
    on = on or timezone.localdate()
    protocol = plan.protocol_version.protocol
    if not protocol.dose_gates:
        return []
    if given is None:
        given = list(plan.administrations.standing().values_list("kind", "given_on"))
    last_given_on = max((d for _, d in given), default=None)
    history = history or History.load(plan.patient_id, gate_history_analytes(protocol))
    max_courses = protocol.course_limit.max_courses if protocol.course_limit else None
    checks = []
    for index, gate in enumerate(protocol.dose_gates):
        occurrence = _next_event(plan, gate.before, given, max_courses)
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


def gate_outcome(
    *,
    plan: DmtPlan,
    result: Result,
    history: History,
    on: date,
    outcome: Evaluation,
    given: Sequence[tuple[str, date]] | None = None,
) -> None:
    for check in gate_status(plan, on=on, history=history, given=given):
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
                    grade=gate_grade(plan),
                    condition_key=f"{prefix}result:{result.pk}",
                    title=f"{plan.drug_name} {check.event_label}: {gate.text}",
                    detail=(
                        f"{investigation_name(reading.analyte)} {reading.display} on "
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
                        f"Gate met by {investigation_name(reading.analyte)} {reading.display} on "
                        f"{reading.taken_on:%d %b %Y}.",
                    )
                )
