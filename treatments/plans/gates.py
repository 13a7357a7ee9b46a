"""The gates at the point of action: everything that must hold before a DMT is started or a dose,
course or infusion is recorded, checked in one place, and the neurologist's override.

`unmet_gates` gathers, for one proposed action, every gate of the plan's pinned protocol that is
not met:

* the baseline checklist (at the start): each check without a result or tick within its limit;
* the dose gates (`treatments.safety.gates`): the latest qualifying result before the action,
  judged on the day the dose is given, not on the day it is typed in;
* the label rules that are gates (see `treatments.plans.label_gates`).

Each unmet gate names its rule, the value found ("no result" when there is none), what is needed
and the source. `authorise_override` refuses the action (`GateRefused`, shown at the override
field) unless a neurologist gives a written reason; `record_overrides` then stores each
overridden gate as its own `GateOverride`, audited, on the timeline and in the plan's history.
A missing check overridden at the start stays open to chase (`overrides_to_chase`) until a
result or tick arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, may
from patients.models import Sex
from treatments.dosing import BsaDose
from treatments.errors import TreatmentError
from treatments.models import (
    MIN_OVERRIDE_REASON_LENGTH,
    AdministrationKind,
    DmtAdministration,
    DmtPlan,
    GateAction,
    GateOverride,
    Result,
)
from treatments.plans.label_gates import UnmetGate, label_gates_unmet
from treatments.protocols import (
    INVESTIGATIONS,
    ChecklistItem,
    Comparator,
    GateEvent,
    RelativeTo,
    analytes_of,
    baseline_checklist,
    investigation_name,
)
from treatments.safety.gates import GateCheck, GateState, gate_history_analytes, gate_status
from treatments.safety.rules import History, describe

if TYPE_CHECKING:
    from clinic.accounts.models import User


# A baseline check without a label time limit is still only credible for a year.
DEFAULT_BASELINE_DAYS = 365


def may_override(user: User) -> bool:
    """Who may give a dose despite an unmet gate: a neurologist, never a nurse or therapist
    (the permission table's `override_gate`; the views ask it too, to offer the field)."""
    return may(user, Perm.OVERRIDE_GATE)


# --- what an unmet gate says ------------------------------------------------------------------


class GateRefused(TreatmentError):
    """An action refused because gates are not met; each gate is one line under the message."""

    def __init__(self, unmet: Sequence[UnmetGate], *, can_override: bool, action: str) -> None:
        count = f"{len(unmet)} gate{'s' if len(unmet) != 1 else ''} of the catalogue"
        how = (
            "To give it anyway, write your reason for overriding them."
            if can_override
            else "Only a neurologist can override a gate, with a written reason."
        )
        super().__init__(
            f"Refused: this {action} does not meet {count}. {how}",
            field="override_reason",
            details=[gate.message for gate in unmet],
        )
        self.unmet = tuple(unmet)


# --- the baseline checklist -------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineRow:
    check: ChecklistItem
    satisfied_on: date | None
    satisfied_by: str  # "result", "ticked" or ""
    expired_on: date | None = None  # a result exists but is older than the check allows

    @property
    def is_satisfied(self) -> bool:
        return self.satisfied_on is not None

    @property
    def limit_days(self) -> int:
        within = self.check.within_days
        return within if within is not None else DEFAULT_BASELINE_DAYS


def patient_checklist(plan: DmtPlan) -> list[ChecklistItem]:
    """The protocol's baseline checks that apply to this patient: a man is not asked for a
    pregnancy test or cervical screening."""
    checks = baseline_checklist(plan.protocol_version.protocol)
    if plan.patient.sex != Sex.MALE:
        return checks
    return [c for c in checks if not INVESTIGATIONS[c.investigation].female_only]


def baseline_status(*, plan: DmtPlan, on: date) -> list[BaselineRow]:
    """Each baseline check with what satisfies it on `on`: a result of the investigation (or of
    a panel containing it) taken within its time limit, or a tick with a date. Two queries."""
    checks = patient_checklist(plan)
    ticked = {r.investigation: r for r in plan.baseline_records.all()}
    results = _results_by_investigation(plan.patient_id, on)
    rows = []
    for check in checks:
        limit = check.within_days if check.within_days is not None else DEFAULT_BASELINE_DAYS
        latest = _latest(results, check.investigation)
        tick = ticked.get(check.investigation)
        if tick is not None and (on - tick.done_on).days <= limit:
            rows.append(BaselineRow(check, tick.done_on, "ticked"))
        elif latest is not None and (on - latest).days <= limit:
            rows.append(BaselineRow(check, latest, "result"))
        else:
            rows.append(
                BaselineRow(check, None, "", expired_on=latest or (tick.done_on if tick else None))
            )
    return rows


def _results_by_investigation(patient_id: int, on: date) -> list[tuple[str, date]]:
    return list(
        Result.objects.standing()
        .filter(patient_id=patient_id, taken_on__lte=on)
        .order_by("-taken_on")
        .values_list("investigation", "taken_on")
    )


def _panel_keys() -> frozenset[str]:
    return frozenset(k for k, inv in INVESTIGATIONS.items() if inv.components)


def _latest(results: list[tuple[str, date]], investigation: str) -> date | None:
    """The latest result of the investigation, or of a panel that contains it (newest first)."""
    panels = _panel_keys()
    return next(
        (
            taken
            for key, taken in results
            if key == investigation or (key in panels and investigation in analytes_of(key))
        ),
        None,
    )


def _baseline_unmet(row: BaselineRow) -> UnmetGate:
    found = (
        f"the latest is from {row.expired_on:%d %b %Y}, too old" if row.expired_on else "no result"
    )
    return UnmetGate(
        key=f"baseline:{row.check.investigation}",
        rule=f"Baseline check outstanding: {row.check.name}",
        found=found,
        needed=f"a result or a tick within {row.limit_days} days before the first dose",
        source=row.check.source,
        investigation=row.check.investigation,
    )


# --- the dose gates -----------------------------------------------------------------------------


def _needed(check: GateCheck) -> str:
    gate = check.gate
    analyte = gate.analyte or gate.investigation
    if gate.comparator == Comparator.DONE:
        needed = f"a {investigation_name(analyte)} result"
    else:
        needed = describe(
            analyte=analyte,
            comparator=gate.comparator,
            threshold=gate.threshold,
            relative_to=gate.relative_to,
            unit=gate.unit,
        )
    noun = "course" if gate.before == GateEvent.EACH_COURSE else "dose"
    if gate.within_days is not None:
        needed += f", taken in the {gate.within_days} days before the {noun}"
    if gate.before != GateEvent.FIRST_DOSE and check.occurrence > 1:
        needed += f" and after the previous {noun}"
    return needed


def _found(check: GateCheck, history: History, plan: DmtPlan) -> str:
    reading = check.reading
    if reading is None:
        return "no result"
    found = (
        f"{investigation_name(reading.analyte)} {reading.display} on {reading.taken_on:%d %b %Y}"
    )
    if check.gate.relative_to == RelativeTo.BASELINE:
        baseline = history.baseline(reading.analyte, plan.started_on)
        if baseline is not None and baseline.order < reading.order:
            found += f" (baseline {baseline.display} on {baseline.taken_on:%d %b %Y})"
    if check.state == GateState.UNKNOWN:
        found += ", which cannot be judged (no reference range or no baseline)"
    return found


def _dose_gate_unmet(
    check: GateCheck, *, history: History, plan: DmtPlan, ticks: dict[str, date], on: date
) -> UnmetGate | None:
    gate = check.gate
    if check.state == GateState.MET:
        return None
    if check.reading is None and gate.comparator == Comparator.DONE:
        # A check ticked as done elsewhere (no result to enter) answers a "done" gate.
        ticked_on = ticks.get(gate.investigation)
        oldest = on - timedelta(days=gate.within_days or 0) if gate.within_days else date.min
        if ticked_on is not None and oldest <= ticked_on <= on:
            return None
    analyte = gate.analyte or gate.investigation
    return UnmetGate(
        key=f"gate:{gate.before}:{analyte}:{gate.comparator}:{gate.relative_to}",
        rule=f"{gate.text} ({check.event_label})",
        found=_found(check, history, plan),
        needed=_needed(check),
        source=gate.source,
        verify_note=gate.verify_note,
        investigation=gate.investigation if check.reading is None else "",
    )


def _applies(check: GateCheck, kind: str) -> bool:
    """A dose (not a course) is not held up by the gates before a course."""
    return not (kind == AdministrationKind.DOSE and check.gate.before == GateEvent.EACH_COURSE)


# --- all of them --------------------------------------------------------------------------------


def unmet_gates(
    *,
    plan: DmtPlan,
    kind: str,
    given_on: date,
    dose: BsaDose | None = None,
    contraception_confirmed: bool = False,
    preview: bool = False,
) -> list[UnmetGate]:
    """Every gate of the catalogue that the proposed start, dose, course or infusion does not
    meet, judged on `given_on`, in the order a clinician reads them: label rules, dose gates,
    then the baseline checklist. `preview` judges the next one after all that is recorded."""
    protocol = plan.protocol_version.protocol
    starting = plan.is_planned
    # The action comes after what was given before its day; a preview (the plan page: "the next
    # dose today") comes after everything recorded, today's dose included.
    before = [
        (k, d)
        for k, d in plan.administrations.standing().values_list("kind", "given_on")
        if d < given_on or (preview and d == given_on)
    ]
    history = History.load(plan.patient_id, gate_history_analytes(protocol))
    ticks = {r.investigation: r.done_on for r in plan.baseline_records.all()} if starting else {}
    unmet = label_gates_unmet(
        plan=plan,
        kind=kind,
        given_on=given_on,
        earlier=before,
        dose=dose,
        preview=preview,
        contraception_confirmed=contraception_confirmed,
    )
    for check in gate_status(plan, on=given_on, history=history, given=before):
        if not _applies(check, kind):
            continue
        found = _dose_gate_unmet(check, history=history, plan=plan, ticks=ticks, on=given_on)
        if found is not None:
            unmet.append(found)
    if starting:
        named = {gate.investigation for gate in unmet if gate.investigation}
        unmet += [
            _baseline_unmet(row)
            for row in baseline_status(plan=plan, on=given_on)
            if not row.is_satisfied and row.check.investigation not in named
        ]
    return unmet


# --- overriding ---------------------------------------------------------------------------------


def authorise_override(unmet: Sequence[UnmetGate], *, reason: str, by: User, action: str) -> str:
    """The reason to record when gates are unmet; refuses the action unless a neurologist gives
    one of a meaningful length. No unmet gate: nothing to authorise ("")."""
    if not unmet:
        return ""
    reason = reason.strip()
    allowed = may_override(by)
    if not allowed or not reason:
        raise GateRefused(unmet, can_override=allowed, action=action)
    if len(reason) < MIN_OVERRIDE_REASON_LENGTH:
        raise TreatmentError(
            f"Give a reason of at least {MIN_OVERRIDE_REASON_LENGTH} characters for overriding "
            "the gates: it is read later by colleagues and auditors.",
            field="override_reason",
        )
    return reason


def record_overrides(
    unmet: Sequence[UnmetGate],
    *,
    administration: DmtAdministration,
    action: str,
    reason: str,
    by: User,
) -> list[GateOverride]:
    """One row per overridden gate, each its own audit entry (inside the caller's transaction,
    so a refused save leaves neither)."""
    plan = administration.plan
    rows = []
    keys: set[str] = set()
    for gate in unmet:
        key = gate.key[:76]
        while key in keys:  # two gates of one kind (never expected): keep both rows
            key = f"{key}+"
        keys.add(key)
        row = GateOverride.objects.create(
            patient_id=plan.patient_id,
            plan=plan,
            administration=administration,
            action=action,
            gate_key=key,
            rule=gate.rule,
            value_seen=gate.found[:300],
            needed=gate.needed[:300],
            source=gate.source[:200],
            investigation=gate.investigation if action == GateAction.START else "",
            reason=reason,
            overridden_by=by,
        )
        audit.record(
            user=by,
            patient=plan.patient_id,
            action=Action.CREATE,
            category=Category.TREATMENT,
            obj=row,
            detail=f"gate overridden ({GateAction(action).label.lower()}): {gate.rule}",
        )
        rows.append(row)
    return rows


def overrides_to_chase(plan: DmtPlan) -> list[GateOverride]:
    """Checks that were missing when the plan was started with an override and still have no
    result or tick: open items until done (three queries, whatever the history)."""
    overridden = list(
        GateOverride.objects.to_chase()
        .filter(plan=plan)
        .select_related("overridden_by")
        .order_by("id")
    )
    if not overridden or plan.started_on is None:
        return []
    done = {r.investigation for r in plan.baseline_records.all()}
    results = _results_by_investigation(plan.patient_id, date.max)
    chase = []
    seen = set()
    for row in overridden:
        if row.investigation in seen or row.investigation in done:
            continue
        seen.add(row.investigation)
        latest = _latest(results, row.investigation)
        limit = next(
            (
                c.within_days
                for c in plan.protocol_version.protocol.baseline_checks
                if c.investigation == row.investigation and c.within_days is not None
            ),
            DEFAULT_BASELINE_DAYS,
        )
        if latest is None or latest < plan.started_on - timedelta(days=limit):
            chase.append(row)
    return chase
