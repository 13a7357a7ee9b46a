"""The DMT plan lifecycle: baseline checklist, plan, start, doses and courses, suspend, resume,
stop and switch (with the washout the catalogue gives).

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient
from treatments import dosing
from treatments.catalogue.services import protocol_version_for
from treatments.errors import TreatmentError
from treatments.models import (
    GENERAL_DRUG_KEY,
    AdministrationKind,
    BaselineCheckRecord,
    ClinicSettings,
    DmtAdministration,
    DmtInterruption,
    DmtPlan,
    GateAction,
    PlanStatus,
    StopReason,
)
from treatments.plans import gates, label_gates
from treatments.plans.gates import BaselineRow as BaselineRow
from treatments.plans.gates import baseline_status as baseline_status
from treatments.plans.schedule import resync_plan, sync_care_plan, sync_plan_monitoring
from treatments.protocols import (
    Condition,
    WashoutGuidance,
    washout_guidance,
)

if TYPE_CHECKING:
    from clinic.accounts.models import User


def tick_baseline_check(
    *, plan: DmtPlan, investigation: str, done_on: date, note: str, by: User
) -> BaselineCheckRecord:
    ensure(by, Perm.BASELINE_TICK)
    if done_on > timezone.localdate():
        raise TreatmentError("A check cannot be done in the future.", field="done_on")
    if investigation not in {
        c.investigation for c in plan.protocol_version.protocol.baseline_checks
    }:
        raise TreatmentError(
            "This is not a baseline check of the plan's protocol.", field="investigation"
        )
    with transaction.atomic():
        record, _ = BaselineCheckRecord.objects.update_or_create(
            plan=plan,
            investigation=investigation,
            defaults={"done_on": done_on, "note": note, "checked_by": by},
        )
        audit.record(
            user=by,
            patient=plan.patient,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=record,
            detail=f"baseline check {investigation} ticked",
        )
    return record


# --- DMT plans -------------------------------------------------------------------------------


def _plan_conditions(patient: Patient, conditions: Iterable[str]) -> list[str]:
    known = {c.value for c in Condition}
    chosen = sorted({c for c in conditions if c in known} - {Condition.FEMALE.value})
    return chosen


def plan_dmt(
    *,
    patient: Patient,
    drug_key: str,
    by: User,
    conditions: Iterable[str] = (),
    planned_on: date | None = None,
    switched_from: DmtPlan | None = None,
) -> DmtPlan:
    """Plan a drug for a patient under the clinic's label region (status planned)."""
    ensure(by, Perm.PLAN_CREATE)
    if drug_key == GENERAL_DRUG_KEY:
        raise TreatmentError("Choose a drug.", field="drug_key")
    day = planned_on or timezone.localdate()
    region = ClinicSettings.load().label_region
    with transaction.atomic():
        version = protocol_version_for(drug_key=drug_key, region=region, on=day)
        if not version.protocol.authorised_in_region:
            raise TreatmentError(
                f"{version.drug_name} is not authorised in the {region} label region.",
                field="drug_key",
            )
        plan = DmtPlan.objects.create(
            patient=patient,
            protocol_version=version,
            drug_key=drug_key,
            drug_name=version.drug_name,
            conditions=_plan_conditions(patient, conditions),
            planned_on=day,
            switched_from=switched_from,
            created_by=by,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.TREATMENT,
            obj=plan,
            detail=f"planned {drug_key}",
        )
    return plan


def washout_for(plan: DmtPlan) -> WashoutGuidance | None:
    previous = plan.switched_from
    if previous is None:
        return None
    return washout_guidance(previous.drug_key, plan.drug_key)


def washout_warning(*, plan: DmtPlan, starts_on: date) -> str:
    """A warning when the start does not respect the catalogue's washout; "" when it does."""
    previous = plan.switched_from
    guidance = washout_for(plan)
    if previous is None or guidance is None:
        return ""
    last_on = _last_given_on(previous)
    if last_on is None:
        return ""
    gap = (starts_on - last_on).days
    if guidance.not_recommended:
        return f"The catalogue does not recommend this switch: {guidance.text}"
    if gap < guidance.min_days:
        return (
            f"Only {gap} days since the last {previous.drug_name} dose on {last_on:%d %b %Y}; "
            f"the catalogue's washout is at least {guidance.min_days} days. {guidance.text}"
        )
    if guidance.max_days is not None and gap > guidance.max_days:
        return (
            f"{gap} days since the last {previous.drug_name} dose on {last_on:%d %b %Y}: longer "
            f"than the {guidance.max_days} days after which rebound risk rises. {guidance.text}"
        )
    return ""


def _last_given_on(plan: DmtPlan) -> date | None:
    """The last day the drug was taken: the stop for a continuous drug (daily tablets,
    injections), the last recorded administration for an infused or course-based one."""
    protocol = plan.protocol_version.protocol
    events = plan.plan_events(list(plan.administrations.standing()))
    if protocol.has_doses or protocol.has_courses:
        return events.last_dose_on or plan.stopped_on
    return plan.stopped_on or events.last_dose_on


def _checked_dose(plan: DmtPlan, dose: dosing.DoseEntry | None) -> dosing.BsaDose | None:
    """The dose, for a drug dosed by body-surface area: required, and checked at its field."""
    if plan.protocol_version.protocol.bsa_dosing is None:
        return None
    try:
        return (dose or dosing.DoseEntry(mg_m2=None)).checked()
    except dosing.DoseError as error:
        raise TreatmentError(
            f"{plan.drug_name} doses are recorded in mg/m² with the BSA. {error}",
            field=error.field,
        ) from None


def _dose_fields(dose: dosing.BsaDose | None) -> dict[str, object]:
    if dose is None:
        return {}
    return {
        "dose_mg_m2": dose.mg_m2,
        "bsa_m2": dose.bsa_m2,
        "height_cm": dose.height_cm,
        "weight_kg": dose.weight_kg,
    }


def start_dmt_plan(
    *,
    plan: DmtPlan,
    started_on: date,
    by: User,
    override_reason: str = "",
    contraception_confirmed: bool = False,
    dose: dosing.DoseEntry | None = None,
) -> DmtPlan:
    """Record the first dose: the plan becomes active and its monitoring is materialised.

    Every gate of the catalogue is checked first (treatments.plans.gates): the baseline
    checklist, the gates before the first dose or course, and the label rules. An unmet gate
    refuses the start unless a neurologist gives a reason; each overridden gate is its own
    audited row. The database refuses a second current plan for the patient.
    """
    ensure(by, Perm.PLAN_START)
    today = timezone.localdate()
    if plan.status != PlanStatus.PLANNED:
        raise TreatmentError("Only a planned DMT can be started.")
    if started_on > today:
        raise TreatmentError("The first dose cannot be in the future.", field="started_on")
    if started_on < plan.planned_on:
        raise TreatmentError(
            f"The first dose cannot be before the plan was made ({plan.planned_on:%d %b %Y}).",
            field="started_on",
        )
    if DmtPlan.objects.current().filter(patient_id=plan.patient_id).exists():
        raise _one_current_plan()
    protocol = plan.protocol_version.protocol
    kind = AdministrationKind.COURSE if protocol.has_courses else AdministrationKind.DOSE
    checked = _checked_dose(plan, dose)
    try:
        with transaction.atomic():
            # The gates are judged on the locked plan: two starts at once cannot both pass.
            plan = DmtPlan.objects.select_for_update().get(pk=plan.pk)
            if plan.status != PlanStatus.PLANNED:
                raise TreatmentError("Only a planned DMT can be started.")
            unmet = gates.unmet_gates(
                plan=plan,
                kind=kind,
                given_on=started_on,
                dose=checked,
                contraception_confirmed=contraception_confirmed,
            )
            reason = gates.authorise_override(unmet, reason=override_reason, by=by, action="start")
            baseline_overridden = any(g.key.startswith("baseline:") for g in unmet)
            plan.status = PlanStatus.ACTIVE
            plan.started_on = started_on
            if baseline_overridden:
                plan.baseline_override_reason = reason
                plan.baseline_override_by = by
            plan.save()
            first = DmtAdministration.objects.create(
                plan=plan,
                kind=kind,
                given_on=started_on,
                note="First dose",
                recorded_by=by,
                **_dose_fields(checked),
            )
            audit.record(
                user=by,
                patient=plan.patient,
                action=Action.UPDATE,
                category=Category.TREATMENT,
                obj=plan,
                detail="started with baseline override" if baseline_overridden else "started",
            )
            gates.record_overrides(
                unmet, administration=first, action=GateAction.START, reason=reason, by=by
            )
            contraception = label_gates.asks_contraception(plan)
            if contraception and contraception_confirmed:
                confirmed = BaselineCheckRecord.objects.create(
                    plan=plan,
                    investigation=label_gates.CONTRACEPTION_CHECK,
                    done_on=started_on,
                    note=contraception[:200],
                    checked_by=by,
                )
                audit.record(
                    user=by,
                    patient=plan.patient,
                    action=Action.CREATE,
                    category=Category.TREATMENT,
                    obj=confirmed,
                    detail="contraception confirmed at the start",
                )
            sync_plan_monitoring(plan=plan, on=today)
            sync_care_plan(patient=plan.patient, on=today)
    except IntegrityError as error:
        if "one_current_dmt_plan" in str(error):
            raise _one_current_plan() from None
        raise
    return plan


def _one_current_plan() -> TreatmentError:
    return TreatmentError(
        "This patient already has an active or suspended DMT. Stop it or switch first."
    )


def record_administration(
    *,
    plan: DmtPlan,
    kind: str,
    given_on: date,
    by: User,
    note: str = "",
    override_reason: str = "",
    dose: dosing.DoseEntry | None = None,
) -> DmtAdministration:
    """A dose, infusion or course start; re-synchronises the plan's monitoring.

    Every gate of the catalogue for this dose or course is checked first, as at the start."""
    ensure(by, Perm.DOSE_RECORD)
    if not plan.can_record_administration():
        raise TreatmentError("Doses can only be recorded on an active or suspended plan.")
    checked = _validated(plan, kind=kind, given_on=given_on, dose=dose)
    try:
        with transaction.atomic():
            # Doses of one plan are judged one at a time (the course count, the cumulative dose):
            # two recorded at once cannot both pass a limit that only one of them fits.
            DmtPlan.objects.select_for_update().only("pk").get(pk=plan.pk)
            unmet = gates.unmet_gates(plan=plan, kind=kind, given_on=given_on, dose=checked)
            reason = gates.authorise_override(
                unmet, reason=override_reason, by=by, action=AdministrationKind(kind).label.lower()
            )
            given = DmtAdministration.objects.create(
                plan=plan,
                kind=kind,
                given_on=given_on,
                note=note,
                recorded_by=by,
                **_dose_fields(checked),
            )
            audit.record(
                user=by,
                patient=plan.patient,
                action=Action.CREATE,
                category=Category.TREATMENT,
                obj=given,
                detail=f"{kind} recorded" + (" with gate override" if unmet else ""),
            )
            gates.record_overrides(unmet, administration=given, action=kind, reason=reason, by=by)
            resync_plan(plan=plan, on=timezone.localdate())
    except IntegrityError:
        raise TreatmentError(
            "This dose or course is already recorded on that date.", field="given_on"
        ) from None
    return given


def _validated(
    plan: DmtPlan, *, kind: str, given_on: date, dose: dosing.DoseEntry | None
) -> dosing.BsaDose | None:
    """What every dose or course must be, recorded or amended: its kind, its day (not in the
    future, not before the first dose, not after the stop) and, for a drug dosed by body-surface
    area, its dose in mg/m² with the BSA."""
    protocol = plan.protocol_version.protocol
    if kind not in AdministrationKind.values:
        raise TreatmentError("Choose a dose or a course.", field="kind")
    if kind == AdministrationKind.COURSE and not protocol.has_courses:
        raise TreatmentError(f"{plan.drug_name} is not given in courses.", field="kind")
    if given_on > timezone.localdate():
        raise TreatmentError("A dose cannot be recorded in the future.", field="given_on")
    if plan.started_on and given_on < plan.started_on:
        raise TreatmentError("A dose cannot be before the first dose.", field="given_on")
    if plan.stopped_on and given_on > plan.stopped_on:
        raise TreatmentError(
            f"A dose cannot be after the plan was stopped ({plan.stopped_on:%d %b %Y}).",
            field="given_on",
        )
    return _checked_dose(plan, dose)


# The label rules an amended dose must still meet: the ones that count doses over a lifetime. The
# gates judged on the day of giving (a count, an interval, a test) decided whether to give it;
# an amendment corrects what was given, it does not decide again.
AMENDMENT_GATES = frozenset({"course_limit", "cumulative_dose"})


def create_administration(
    *,
    plan: DmtPlan,
    kind: str,
    given_on: date,
    by: User,
    note: str = "",
    dose: dosing.DoseEntry | None = None,
    amends: DmtAdministration | None = None,
) -> DmtAdministration:
    """Validate and save the dose or course that amends another (no permission check, no
    audit, no re-sync: `treatments.corrections.doses`). The plan's state is not checked: an
    amendment may correct a dose of a plan stopped since. Runs after the original stopped
    counting, so the lifetime limits count the amendment in its place."""
    checked = _validated(plan, kind=kind, given_on=given_on, dose=dose)
    DmtPlan.objects.select_for_update().only("pk").get(pk=plan.pk)
    unmet = [
        gate
        for gate in label_gates.label_gates_unmet(
            plan=plan, kind=kind, given_on=given_on, earlier=(), dose=checked
        )
        if gate.key in AMENDMENT_GATES
    ]
    if unmet:
        raise TreatmentError(
            "The amended dose would break a limit of the label.",
            field="given_on",
            details=[gate.message for gate in unmet],
        )
    try:
        with transaction.atomic():
            return DmtAdministration.objects.create(
                plan=plan,
                kind=kind,
                given_on=given_on,
                note=note,
                recorded_by=by,
                amends=amends,
                **_dose_fields(checked),
            )
    except IntegrityError:
        raise TreatmentError(
            "This dose or course is already recorded on that date.", field="given_on"
        ) from None


def suspend_dmt_plan(*, plan: DmtPlan, suspended_on: date, reason: str, by: User) -> DmtPlan:
    ensure(by, Perm.PLAN_SUSPEND)
    if plan.status != PlanStatus.ACTIVE:
        raise TreatmentError("Only an active DMT can be suspended.")
    if not reason.strip():
        raise TreatmentError("Give a reason for the suspension.", field="reason")
    if suspended_on > timezone.localdate() or (plan.started_on and suspended_on < plan.started_on):
        raise TreatmentError("The suspension date must be between the start and today.", field="on")
    with transaction.atomic():
        plan.status = PlanStatus.SUSPENDED
        plan.suspended_on = suspended_on
        plan.suspend_reason = reason.strip()
        plan.save(update_fields=["status", "suspended_on", "suspend_reason", "updated_at"])
        audit.record(
            user=by,
            patient=plan.patient,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=plan,
            detail="suspended",
        )
    return plan


def resume_dmt_plan(*, plan: DmtPlan, resumed_on: date, reason: str, by: User) -> DmtPlan:
    ensure(by, Perm.PLAN_RESUME)
    if plan.status != PlanStatus.SUSPENDED:
        raise TreatmentError("Only a suspended DMT can be resumed.")
    if not reason.strip():
        raise TreatmentError("Give a reason for resuming.", field="reason")
    if resumed_on > timezone.localdate() or (plan.suspended_on and resumed_on < plan.suspended_on):
        raise TreatmentError(
            "The resume date must be between the suspension and today.", field="on"
        )
    with transaction.atomic():
        if plan.suspended_on is not None:
            # The gap is kept: a label may repeat the start of treatment after it (§3.6).
            DmtInterruption.objects.create(
                plan=plan,
                stopped_taking_on=plan.suspended_on,
                resumed_on=resumed_on,
                recorded_by=by,
            )
        plan.status = PlanStatus.ACTIVE
        plan.suspend_reason = (
            f"{plan.suspend_reason} — resumed {resumed_on:%d %b %Y}: {reason.strip()}"
        )
        plan.suspended_on = None
        plan.save(update_fields=["status", "suspended_on", "suspend_reason", "updated_at"])
        audit.record(
            user=by,
            patient=plan.patient,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=plan,
            detail="resumed",
        )
        resync_plan(plan=plan, on=timezone.localdate())
    return plan


def stop_dmt_plan(
    *, plan: DmtPlan, stopped_on: date, reason: str, note: str = "", by: User
) -> DmtPlan:
    """Stop (or abandon a planned) DMT. Duties after the stop are cancelled unless the protocol
    says they survive it (alemtuzumab's 48 months, natalizumab's post-stop PML vigilance)."""
    ensure(by, Perm.PLAN_STOP)
    return end_dmt_plan(plan=plan, stopped_on=stopped_on, reason=reason, note=note, by=by)


def end_dmt_plan(
    *, plan: DmtPlan, stopped_on: date, reason: str, note: str = "", by: User
) -> DmtPlan:
    """Stop a plan without the capability check: for `stop_dmt_plan`, and for a patient's death
    or transfer, which ends their DMT whoever records it (treatments.plans.status)."""
    if plan.status == PlanStatus.STOPPED:
        raise TreatmentError("This DMT is already stopped.")
    if reason not in StopReason.values:
        raise TreatmentError("Choose a reason for stopping.", field="reason")
    if reason == StopReason.OTHER and not note.strip():
        raise TreatmentError("Describe the reason for stopping.", field="note")
    if stopped_on > timezone.localdate():
        raise TreatmentError("The stop date cannot be in the future.", field="stopped_on")
    if plan.started_on and stopped_on < plan.started_on:
        raise TreatmentError("The stop date cannot be before the first dose.", field="stopped_on")
    with transaction.atomic():
        plan = DmtPlan.objects.select_for_update().get(pk=plan.pk)
        plan.status = PlanStatus.STOPPED
        plan.stopped_on = stopped_on
        plan.stop_reason = reason
        plan.stop_note = note.strip()
        plan.save()
        audit.record(
            user=by,
            patient=plan.patient,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=plan,
            detail=f"stopped: {reason}",
        )
        if plan.started_on is not None:
            resync_plan(plan=plan, on=timezone.localdate())
    return plan


def switch_dmt_plan(
    *,
    plan: DmtPlan,
    stopped_on: date,
    reason: str,
    note: str = "",
    to_drug_key: str,
    conditions: Iterable[str] = (),
    by: User,
) -> DmtPlan:
    """Stop the current drug and plan the next one; the new plan shows the washout guidance."""
    ensure(by, Perm.PLAN_SWITCH)
    if to_drug_key == plan.drug_key:
        raise TreatmentError("Choose a different drug to switch to.", field="to_drug_key")
    with transaction.atomic():
        stopped = stop_dmt_plan(plan=plan, stopped_on=stopped_on, reason=reason, note=note, by=by)
        try:
            return plan_dmt(
                patient=plan.patient,
                drug_key=to_drug_key,
                by=by,
                conditions=conditions,
                switched_from=stopped,
            )
        except TreatmentError as error:
            raise TreatmentError(error.message, field="to_drug_key") from None


def update_plan_conditions(*, plan: DmtPlan, conditions: Iterable[str], by: User) -> DmtPlan:
    """A prescriber changes the plan's conditions."""
    ensure(by, Perm.PLAN_CONDITIONS)
    return set_plan_conditions(plan=plan, conditions=conditions, by=by)


def set_plan_conditions(
    *, plan: DmtPlan, conditions: Iterable[str], by: User, detail: str = "conditions changed"
) -> DmtPlan:
    """Change the conditions and the monitoring they switch on. Also the consequence of a
    result that switches a condition on (a positive JCV): that is part of recording the
    result, so it needs no capability of its own; a person's change goes through
    `update_plan_conditions`."""
    with transaction.atomic():
        plan.conditions = _plan_conditions(plan.patient, conditions)
        plan.save(update_fields=["conditions", "updated_at"])
        audit.record(
            user=by,
            patient=plan.patient,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=plan,
            detail=detail,
        )
        if plan.started_on is not None:
            resync_plan(plan=plan, on=timezone.localdate())
    return plan
