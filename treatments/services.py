"""Treatment workflows: the catalogue, DMT plans, monitoring items, results, symptomatic drugs.

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from patients.models import Patient, PatientStatus, Sex
from treatments import alerts, evaluation_tasks, labs
from treatments.models import (
    CURRENT_STATUSES,
    GENERAL_DRUG_KEY,
    OPEN_STATUSES,
    AdministrationKind,
    AlertKind,
    BaselineCheckRecord,
    CarePlan,
    ClinicSettings,
    DmtAdministration,
    DmtPlan,
    Flag,
    ItemStatus,
    MonitoringItem,
    PlanStatus,
    ProtocolVersion,
    QualitativeValue,
    Result,
    ResultValue,
    StopReason,
    SymptomaticTreatment,
)
from treatments.models.results import flag_for
from treatments.protocols import (
    ChecklistItem,
    Condition,
    DueItem,
    InvestigationKind,
    PlanEvents,
    Protocol,
    WashoutGuidance,
    add_months,
    all_protocols,
    analytes_of,
    baseline_checklist,
    get_investigation,
    get_protocol,
    protocol_to_dict,
    schedule,
    washout_guidance,
)

if TYPE_CHECKING:
    from clinic.accounts.models import User

HORIZON_MONTHS = 13
# A baseline check without a label time limit is still only credible for a year.
DEFAULT_BASELINE_DAYS = 365


logger = logging.getLogger("myelin.treatments")


class TreatmentError(Exception):
    """A request the workflow refuses; `field` is the form field the message belongs next to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- catalogue -------------------------------------------------------------------------------


def load_catalogue(*, model: Any = None) -> int:
    """Store every protocol version of the code catalogue; returns how many were new.

    Idempotent: a version already stored is left as it is (a stored version is never rewritten,
    since running plans pin it). Takes the model so the data migration can pass its own.
    """
    model = model or ProtocolVersion
    created = 0
    for protocol in all_protocols():
        _, was_created = model.objects.get_or_create(
            drug_key=protocol.drug_key,
            region=protocol.label_region.value,
            version=protocol.version,
            defaults={
                "drug_name": protocol.drug_name,
                "effective_from": protocol.effective_from,
                "data": protocol_to_dict(protocol),
            },
        )
        created += was_created
    return created


def protocol_version_for(*, drug_key: str, region: str, on: date) -> ProtocolVersion:
    """The stored version in effect for the drug and region, loading it from code if missing."""
    found = ProtocolVersion.objects.in_effect(drug_key=drug_key, region=region, on=on)
    if found is not None:
        return found
    # A plan recorded with a date before the first catalogue version (history being entered)
    # follows the earliest version: it is the best knowledge the clinic has.
    earliest = (
        ProtocolVersion.objects.filter(drug_key=drug_key, region=region)
        .order_by("effective_from")
        .first()
    )
    if earliest is not None and earliest.effective_from > on:
        return earliest
    try:
        protocol = get_protocol(drug_key, region, on=on)
    except LookupError as error:
        raise TreatmentError(str(error), field="drug_key") from None
    version, _ = ProtocolVersion.objects.get_or_create(
        drug_key=protocol.drug_key,
        region=protocol.label_region.value,
        version=protocol.version,
        defaults={
            "drug_name": protocol.drug_name,
            "effective_from": protocol.effective_from,
            "data": protocol_to_dict(protocol),
        },
    )
    return version


def update_clinic_settings(*, label_region: str, review_interval_months: int, by: User) -> None:
    with transaction.atomic():
        clinic = ClinicSettings.load()
        clinic.label_region = label_region
        clinic.review_interval_months = review_interval_months
        clinic.full_clean()
        clinic.save()
        audit.record(
            user=by,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=clinic,
            detail="clinic catalogue settings",
        )


# --- baseline checklist ----------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineRow:
    check: ChecklistItem
    satisfied_on: date | None
    satisfied_by: str  # "result", "ticked" or ""
    expired_on: date | None = None  # a result exists but is older than the check allows

    @property
    def is_satisfied(self) -> bool:
        return self.satisfied_on is not None


def baseline_status(*, plan: DmtPlan, on: date) -> list[BaselineRow]:
    """Each baseline check with what satisfies it on `on`: a result of the investigation (or of
    a panel containing it) taken within its time limit, or a tick with a date. Two queries."""
    checks = baseline_checklist(plan.protocol_version.protocol)
    ticked = {r.investigation: r for r in plan.baseline_records.all()}
    panels = _panel_keys()
    results = list(
        Result.objects.filter(patient_id=plan.patient_id, taken_on__lte=on)
        .order_by("-taken_on")
        .values_list("investigation", "taken_on")
    )
    rows = []
    for check in checks:
        limit = check.within_days if check.within_days is not None else DEFAULT_BASELINE_DAYS
        latest = next(
            (
                taken
                for investigation, taken in results
                if investigation == check.investigation
                or (investigation in panels and check.investigation in analytes_of(investigation))
            ),
            None,
        )
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


def _panel_keys() -> frozenset[str]:
    from treatments.protocols import INVESTIGATIONS

    return frozenset(k for k, inv in INVESTIGATIONS.items() if inv.components)


def tick_baseline_check(
    *, plan: DmtPlan, investigation: str, done_on: date, note: str, by: User
) -> BaselineCheckRecord:
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
    events = plan.plan_events(list(plan.administrations.all()))
    if protocol.has_doses or protocol.has_courses:
        return events.last_dose_on or plan.stopped_on
    return plan.stopped_on or events.last_dose_on


def start_dmt_plan(
    *, plan: DmtPlan, started_on: date, by: User, override_reason: str = ""
) -> DmtPlan:
    """Record the first dose: the plan becomes active and its monitoring is materialised.

    Refused while baseline checks are outstanding unless an override reason is given (audited
    and shown on the plan). The database refuses a second current plan for the patient.
    """
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
    override_reason = override_reason.strip()
    outstanding = [r for r in baseline_status(plan=plan, on=started_on) if not r.is_satisfied]
    if outstanding and not override_reason:
        names = ", ".join(r.check.name for r in outstanding)
        raise TreatmentError(
            f"Baseline checks outstanding: {names}. Complete them or give a reason to override.",
            field="override_reason",
        )
    try:
        with transaction.atomic():
            plan = DmtPlan.objects.select_for_update().get(pk=plan.pk)
            plan.status = PlanStatus.ACTIVE
            plan.started_on = started_on
            if outstanding:
                plan.baseline_override_reason = override_reason
                plan.baseline_override_by = by
            plan.save()
            protocol = plan.protocol_version.protocol
            kind = AdministrationKind.COURSE if protocol.has_courses else AdministrationKind.DOSE
            DmtAdministration.objects.create(
                plan=plan, kind=kind, given_on=started_on, note="First dose", recorded_by=by
            )
            audit.record(
                user=by,
                patient=plan.patient,
                action=Action.UPDATE,
                category=Category.TREATMENT,
                obj=plan,
                detail="started with baseline override" if outstanding else "started",
            )
            sync_plan_monitoring(plan=plan, on=today)
            sync_care_plan(patient=plan.patient, on=today)
    except IntegrityError as error:
        if "one_current_dmt_plan" in str(error):
            raise TreatmentError(
                "This patient already has an active or suspended DMT. Stop it or switch first."
            ) from None
        raise
    return plan


def record_administration(
    *, plan: DmtPlan, kind: str, given_on: date, by: User, note: str = ""
) -> DmtAdministration:
    """A dose, infusion or course start; re-synchronises the plan's monitoring."""
    protocol = plan.protocol_version.protocol
    if not plan.can_record_administration():
        raise TreatmentError("Doses can only be recorded on an active or suspended plan.")
    if kind == AdministrationKind.COURSE and not protocol.has_courses:
        raise TreatmentError(f"{plan.drug_name} is not given in courses.", field="kind")
    if given_on > timezone.localdate():
        raise TreatmentError("A dose cannot be recorded in the future.", field="given_on")
    if plan.started_on and given_on < plan.started_on:
        raise TreatmentError("A dose cannot be before the first dose.", field="given_on")
    try:
        with transaction.atomic():
            given = DmtAdministration.objects.create(
                plan=plan, kind=kind, given_on=given_on, note=note, recorded_by=by
            )
            audit.record(
                user=by,
                patient=plan.patient,
                action=Action.CREATE,
                category=Category.TREATMENT,
                obj=given,
                detail=f"{kind} recorded",
            )
            sync_plan_monitoring(plan=plan, on=timezone.localdate())
    except IntegrityError:
        raise TreatmentError(
            "This dose or course is already recorded on that date.", field="given_on"
        ) from None
    return given


def suspend_dmt_plan(*, plan: DmtPlan, suspended_on: date, reason: str, by: User) -> DmtPlan:
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
    if plan.status != PlanStatus.SUSPENDED:
        raise TreatmentError("Only a suspended DMT can be resumed.")
    if not reason.strip():
        raise TreatmentError("Give a reason for resuming.", field="reason")
    if resumed_on > timezone.localdate() or (plan.suspended_on and resumed_on < plan.suspended_on):
        raise TreatmentError(
            "The resume date must be between the suspension and today.", field="on"
        )
    with transaction.atomic():
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
    return plan


def stop_dmt_plan(
    *, plan: DmtPlan, stopped_on: date, reason: str, note: str = "", by: User
) -> DmtPlan:
    """Stop (or abandon a planned) DMT. Duties after the stop are cancelled unless the protocol
    says they survive it (alemtuzumab's 48 months, natalizumab's post-stop PML vigilance)."""
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
            sync_plan_monitoring(plan=plan, on=timezone.localdate())
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
    with transaction.atomic():
        plan.conditions = _plan_conditions(plan.patient, conditions)
        plan.save(update_fields=["conditions", "updated_at"])
        audit.record(
            user=by,
            patient=plan.patient,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=plan,
            detail="conditions changed",
        )
        if plan.started_on is not None:
            sync_plan_monitoring(plan=plan, on=timezone.localdate())
    return plan


# --- materialising monitoring ----------------------------------------------------------------


@dataclass(frozen=True)
class SyncReport:
    created: int = 0
    updated: int = 0
    cancelled: int = 0

    def __add__(self, other: SyncReport) -> SyncReport:
        return SyncReport(
            self.created + other.created,
            self.updated + other.updated,
            self.cancelled + other.cancelled,
        )


def horizon_for(on: date) -> date:
    return add_months(on, HORIZON_MONTHS)


def _engine_conditions(patient: Patient, conditions: Sequence[str]) -> list[str]:
    chosen = list(conditions)
    if patient.sex == Sex.FEMALE:
        chosen.append(Condition.FEMALE.value)
    return chosen


def sync_plan_monitoring(*, plan: DmtPlan, on: date) -> SyncReport:
    """Upsert the plan's items from its pinned protocol up to on + 13 months (idempotent)."""
    if plan.started_on is None:
        return SyncReport()
    events = plan.plan_events(list(plan.administrations.all()))
    due, owed = _schedule(
        plan.protocol_version.protocol,
        events,
        on=on,
        items=plan.items.all(),
        review_interval_months=ClinicSettings.load().review_interval_months,
        conditions=_engine_conditions(plan.patient, plan.conditions),
    )
    return _upsert(
        owner={"plan": plan},
        patient_id=plan.patient_id,
        version=plan.protocol_version,
        due=due,
        owed=owed,
        reason=_cancel_reason(plan),
    )


def _schedule(
    protocol: Protocol,
    events: PlanEvents,
    *,
    on: date,
    items: QuerySet[MonitoringItem],
    review_interval_months: int,
    conditions: Sequence[str] = (),
) -> tuple[list[DueItem], set[tuple[str, date, int]]]:
    """The items to materialise (up to on + 13 months) and the keys still owed at all.

    Open rows may lie beyond today's horizon (a finite series is returned whole). To tell a row
    the engine disowns from one it did not look that far for, the engine is asked again up to
    the latest open row; only keys missing from that answer are cancelled.
    """
    horizon = horizon_for(on)
    due = schedule(
        protocol,
        events,
        horizon=horizon,
        review_interval_months=review_interval_months,
        conditions=conditions,
    )
    latest = items.filter(status__in=OPEN_STATUSES).aggregate(latest=Max("due_on"))["latest"]
    if latest is None or latest <= horizon:
        return due, {d.key for d in due}
    far = schedule(
        protocol,
        events,
        horizon=latest,
        review_interval_months=review_interval_months,
        conditions=conditions,
    )
    return due, {d.key for d in far}


def _cancel_reason(plan: DmtPlan) -> str:
    if plan.stopped_on is not None:
        return f"No longer due: DMT stopped on {plan.stopped_on:%d %b %Y}."
    return "No longer due: superseded by a later dose or a change of plan."


def sync_care_plan(*, patient: Patient, on: date) -> SyncReport:
    """Materialise the general protocol (reviews with EDSS, MRI) for an active patient.

    Anchored on the start of the most recent DMT, else the diagnosis date, else the day
    tracking began (see CarePlan). A transferred or deceased patient's open duties are cancelled.
    """
    clinic = ClinicSettings.load()
    care_plan = CarePlan.objects.filter(patient=patient).first()
    if patient.status != PatientStatus.ACTIVE:
        if care_plan is None:
            return SyncReport()
        with transaction.atomic():
            closing = list(
                care_plan.items.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True)
            )
            cancelled = MonitoringItem.objects.filter(pk__in=closing).update(
                status=ItemStatus.CANCELLED,
                cancelled_reason=f"No longer due: patient {patient.get_status_display().lower()}.",
                updated_at=timezone.now(),
            )
            if closing:
                _close_item_alerts(closing, "Closed automatically: the check is no longer due.")
        return SyncReport(cancelled=cancelled)
    latest = (
        DmtPlan.objects.filter(patient=patient, started_on__isnull=False)
        .order_by("-started_on", "-id")
        .first()
    )
    if latest is not None and latest.started_on is not None:
        anchor_on, label = latest.started_on, f"start of {latest.drug_name}"
    elif patient.diagnosis_on is not None:
        anchor_on, label = patient.diagnosis_on, "diagnosis"
    else:
        anchor_on = care_plan.tracking_from if care_plan else on
        label = "start of tracking"
    version = protocol_version_for(drug_key=GENERAL_DRUG_KEY, region=clinic.label_region, on=on)
    if care_plan is None:
        care_plan = CarePlan.objects.create(
            patient=patient,
            protocol_version=version,
            anchor_on=anchor_on,
            anchor_label=label,
            tracking_from=on,
        )
    elif (care_plan.anchor_on, care_plan.anchor_label) != (anchor_on, label):
        care_plan.anchor_on, care_plan.anchor_label = anchor_on, label
        care_plan.save(update_fields=["anchor_on", "anchor_label", "updated_at"])
    due, owed = _schedule(
        care_plan.protocol_version.protocol,
        PlanEvents(first_dose_on=anchor_on),
        on=on,
        items=care_plan.items.all(),
        review_interval_months=clinic.review_interval_months,
    )
    due = [item for item in due if item.window_closes_on >= care_plan.tracking_from]
    return _upsert(
        owner={"care_plan": care_plan},
        patient_id=patient.pk,
        version=care_plan.protocol_version,
        due=due,
        owed=owed,
        reason=f"No longer due: general duties now counted from the {label}.",
    )


def _upsert(
    *,
    owner: dict[str, Any],
    patient_id: int,
    version: ProtocolVersion,
    due: list[DueItem],
    owed: set[tuple[str, date, int]],
    reason: str,
) -> SyncReport:
    """Make the owner's items match the engine's list, keyed on (rule, anchor, occurrence).

    New keys are inserted (ignore_conflicts: a concurrent sync that won the race already did);
    open rows whose dates changed are updated; open rows the engine no longer returns are
    cancelled. Done and waived
    rows are never touched; a cancelled row the engine wants again is reopened.
    """
    now = timezone.now()
    with transaction.atomic():
        existing = {
            item.key: item for item in MonitoringItem.objects.select_for_update().filter(**owner)
        }
        wanted = {item.key: item for item in due}
        new = [
            MonitoringItem(
                patient_id=patient_id,
                protocol_version=version,
                rule_key=d.rule_key,
                investigation=d.investigation,
                anchor=d.anchor,
                anchor_on=d.anchor_on,
                occurrence=d.occurrence,
                due_on=d.due_on,
                window_opens_on=d.window_opens_on,
                window_closes_on=d.window_closes_on,
                explanation=d.explanation,
                source=d.source[:200],
                survives_stop=d.survives_stop,
                **owner,
            )
            for key, d in wanted.items()
            if key not in existing
        ]
        MonitoringItem.objects.bulk_create(new, ignore_conflicts=True)
        changed: list[MonitoringItem] = []
        cancelled: list[MonitoringItem] = []
        for key, item in existing.items():
            if item.is_settled:
                continue
            d = wanted.get(key)
            if d is None:
                if key not in owed and item.is_open:
                    item.status = ItemStatus.CANCELLED
                    item.cancelled_reason = reason[:200]
                    item.updated_at = now
                    cancelled.append(item)
                continue
            fresh = (d.due_on, d.window_opens_on, d.window_closes_on, d.explanation)
            current = (item.due_on, item.window_opens_on, item.window_closes_on, item.explanation)
            if item.status == ItemStatus.CANCELLED or fresh != current:
                item.due_on, item.window_opens_on, item.window_closes_on, item.explanation = fresh
                if item.status == ItemStatus.CANCELLED:
                    item.status = ItemStatus.SCHEDULED
                    item.cancelled_reason = ""
                item.updated_at = now
                changed.append(item)
        fields = [
            "status",
            "cancelled_reason",
            "due_on",
            "window_opens_on",
            "window_closes_on",
            "explanation",
            "updated_at",
        ]
        MonitoringItem.objects.bulk_update([*changed, *cancelled], fields)
        if cancelled:
            _close_item_alerts(
                [item.pk for item in cancelled], "Closed automatically: the check is no longer due."
            )
    return SyncReport(len(new), len(changed), len(cancelled))


def extend_monitoring(*, on: date) -> SyncReport:
    """Re-sync every running plan's items and every patient's general duties up to on + 13
    months. Level-triggered and idempotent: the alerts engine's periodic sweep calls it."""
    report = SyncReport()
    # Stopped plans only while they still owe something (post-stop duties are finite).
    still_owing = MonitoringItem.objects.filter(plan=OuterRef("pk"), status__in=OPEN_STATUSES)
    plans = (
        DmtPlan.objects.filter(started_on__isnull=False)
        .filter(Q(status__in=CURRENT_STATUSES) | Q(Exists(still_owing)))
        .select_related("patient", "protocol_version")
    )
    # One plan or patient whose protocol cannot be scheduled (a catalogue error) must not stop
    # everyone else's monitoring from being extended: log its id and carry on.
    for plan in plans.iterator(chunk_size=200):
        try:
            report += sync_plan_monitoring(plan=plan, on=on)
        except (LookupError, ValueError):
            logger.exception("Extending monitoring failed for DMT plan %s", plan.pk)
    for patient in Patient.objects.filter(status=PatientStatus.ACTIVE).iterator(chunk_size=200):
        try:
            report += sync_care_plan(patient=patient, on=on)
        except (LookupError, ValueError):
            logger.exception("Extending general duties failed for patient id %s", patient.pk)
    for care_plan in CarePlan.objects.exclude(patient__status=PatientStatus.ACTIVE).select_related(
        "patient"
    ):
        report += sync_care_plan(patient=care_plan.patient, on=on)
    return report


# --- working the items -----------------------------------------------------------------------


def _close_item_alerts(item_ids: Iterable[int], note: str) -> None:
    """Resolve the overdue / due-soon alerts of items just closed, in the caller's transaction
    (the periodic sweeps would too, up to 15 minutes later; a nurse expects it now)."""
    alerts.resolve_raised_by(
        raised_by_type="treatments.monitoringitem",
        raised_by_ids=item_ids,
        note=note,
        kinds=(AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON),
    )


def book_item(*, item: MonitoringItem, booked_on: date, by: User) -> MonitoringItem:
    if not item.is_open:
        raise TreatmentError(
            f"This item is {item.get_status_display().lower()}; it cannot be booked."
        )
    if booked_on < timezone.localdate():
        raise TreatmentError("Book a date from today onwards.", field="booked_on")
    with transaction.atomic():
        item.status = ItemStatus.BOOKED
        item.booked_on = booked_on
        item.save(update_fields=["status", "booked_on", "updated_at"])
        audit.record(
            user=by,
            patient=item.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="booked",
        )
    return item


def waive_item(*, item: MonitoringItem, reason: str, by: User) -> MonitoringItem:
    if not item.is_open:
        raise TreatmentError(
            f"This item is {item.get_status_display().lower()}; it cannot be waived."
        )
    if not reason.strip():
        raise TreatmentError("Give a reason for waiving this check.", field="reason")
    with transaction.atomic():
        item.status = ItemStatus.WAIVED
        item.waived_reason = reason.strip()
        item.settled_by = by
        item.save(update_fields=["status", "waived_reason", "settled_by", "updated_at"])
        _close_item_alerts([item.pk], "Closed automatically: check waived.")
        audit.record(
            user=by,
            patient=item.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="waived",
        )
    return item


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnteredValue:
    analyte: str
    value: Decimal
    unit: str
    low: Decimal | None = None
    high: Decimal | None = None


def result_analytes(investigation: str) -> tuple[str, ...]:
    """The numeric analytes a result for this investigation is entered as (may be none)."""
    inv = get_investigation(investigation)
    if inv.kind == InvestigationKind.NUMERIC:
        return (investigation,)
    return tuple(a for a in inv.components if a in labs.ANALYTES)


def _value_row(entered: EnteredValue) -> ResultValue:
    analyte = entered.analyte
    try:
        value = labs.convert(analyte, entered.value, entered.unit)
    except labs.UnitError as error:
        raise TreatmentError(str(error), field=f"{analyte}_unit") from None
    try:
        labs.check_plausible(analyte, value)
    except labs.ImplausibleValue as error:
        raise TreatmentError(str(error), field=f"{analyte}_value") from None
    try:
        reference = labs.convert_range(
            analyte, low=entered.low, high=entered.high, unit=entered.unit
        )
    except ValueError as error:
        raise TreatmentError(str(error), field=f"{analyte}_low") from None
    try:
        grade = labs.ctcae_grade(analyte, value, lln=reference.low, uln=reference.high)
    except labs.MissingReferenceLimit:
        grade = None
    ratio = None
    if reference.high is not None and reference.high > 0:
        ratio = round(labs.times_uln(value, reference.high), 3)
    return ResultValue(
        analyte=analyte,
        value=value,
        unit=labs.get_analyte(analyte).canonical_unit,
        entered_value=str(entered.value),
        entered_unit=entered.unit,
        lln=reference.low,
        uln=reference.high,
        flag=flag_for(value, reference.low, reference.high),
        ctcae_grade=grade,
        times_uln=ratio,
    )


_ABNORMAL_QUALITATIVE = {QualitativeValue.POSITIVE, QualitativeValue.ABNORMAL}


def record_result(
    *,
    patient: Patient,
    investigation: str,
    taken_on: date,
    by: User,
    item: MonitoringItem | None = None,
    values: Sequence[EnteredValue] = (),
    qualitative: str = "",
    index_value: Decimal | None = None,
    macular_oedema: bool | None = None,
    mri_study_ref: str = "",
    lab: str = "",
    note: str = "",
) -> Result:
    """Store a result in canonical units with the lab's range and close the item it answers.

    Without an item, the result closes the earliest open item of the same investigation (or of
    a component it contains) whose window holds the date: an outside lab's ALT still counts.
    A JCV-positive result switches the natalizumab plan's PML surveillance rules on.
    """
    if taken_on > timezone.localdate():
        raise TreatmentError("The result date cannot be in the future.", field="taken_on")
    if item is not None:
        if item.patient_id != patient.pk:
            raise TreatmentError("This monitoring item belongs to another patient.")
        if not item.can_take_result():
            raise TreatmentError(
                f"This item is {item.get_status_display().lower()}; record the result without "
                "an item instead.",
                field="item",
            )
        investigation = item.investigation
    rows = [_value_row(v) for v in values]
    has_content = rows or qualitative or macular_oedema is not None or mri_study_ref or note
    if not has_content:
        raise TreatmentError("Enter at least one value or finding.")
    if qualitative and qualitative not in QualitativeValue.values:
        raise TreatmentError("Choose a listed finding.", field="qualitative")
    abnormal = (
        any(r.flag in (Flag.LOW, Flag.HIGH) for r in rows)
        or qualitative in _ABNORMAL_QUALITATIVE
        or macular_oedema is True
    )
    with transaction.atomic():
        result = Result.objects.create(
            patient=patient,
            investigation=investigation,
            taken_on=taken_on,
            lab=lab,
            qualitative=qualitative,
            index_value=index_value,
            macular_oedema=macular_oedema,
            mri_study_ref=mri_study_ref,
            note=note,
            is_abnormal=abnormal,
            recorded_by=by,
        )
        for row in rows:
            row.result = result
        ResultValue.objects.bulk_create(rows)
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.MONITORING,
            obj=result,
            detail=f"result {investigation}",
        )
        target = item or _matching_open_item(patient, investigation, taken_on)
        if target is not None:
            target = MonitoringItem.objects.select_for_update().get(pk=target.pk)
            if target.can_take_result():
                target.status = target.completion_status(taken_on)
                target.completed_on = taken_on
                target.result = result
                target.settled_by = by
                target.save(
                    update_fields=["status", "completed_on", "result", "settled_by", "updated_at"]
                )
                _close_item_alerts([target.pk], "Closed automatically: result recorded.")
        if investigation == "jcv_antibody" and qualitative == QualitativeValue.POSITIVE:
            _apply_jcv_positive(patient, index_value, by)
        enqueue_on_commit(evaluation_tasks.evaluate_result, result.pk)
    return result


def _matching_open_item(
    patient: Patient, investigation: str, taken_on: date
) -> MonitoringItem | None:
    keys = (
        {investigation, *analytes_of(investigation)} if _known(investigation) else {investigation}
    )
    return (
        MonitoringItem.objects.open()
        .filter(
            patient=patient,
            investigation__in=keys,
            window_opens_on__lte=taken_on,
            window_closes_on__gte=taken_on,
        )
        .order_by("due_on", "id")
        .first()
    )


def _known(investigation: str) -> bool:
    try:
        get_investigation(investigation)
    except LookupError:
        return False
    return True


def _apply_jcv_positive(patient: Patient, index_value: Decimal | None, by: User) -> None:
    plan = (
        DmtPlan.objects.current()
        .filter(patient=patient, drug_key__startswith="natalizumab")
        .first()
    )
    if plan is None:
        return
    condition = (
        Condition.PML_HIGH_RISK
        if index_value is not None and index_value > Decimal("1.5")
        else Condition.JCV_POSITIVE
    )
    if condition.value in plan.conditions or Condition.PML_HIGH_RISK.value in plan.conditions:
        return
    update_plan_conditions(plan=plan, conditions=[*plan.conditions, condition.value], by=by)


def review_result(*, result: Result, by: User, note: str = "") -> Result:
    if result.is_reviewed:
        raise TreatmentError("This result has already been reviewed.")
    with transaction.atomic():
        result.reviewed_by = by
        result.reviewed_at = timezone.now()
        result.review_note = note.strip()
        result.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        audit.record(
            user=by,
            patient=result.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=result,
            detail="result reviewed",
        )
    return result


# --- symptomatic and relapse treatments --------------------------------------------------------


def record_symptomatic_treatment(
    *,
    patient: Patient,
    kind: str,
    drug: str,
    indication: str,
    dose: str,
    started_on: date,
    stopped_on: date | None,
    note: str,
    by: User,
) -> SymptomaticTreatment:
    if started_on > timezone.localdate():
        raise TreatmentError("The start date cannot be in the future.", field="started_on")
    if stopped_on is not None and stopped_on < started_on:
        raise TreatmentError("The stop date cannot be before the start.", field="stopped_on")
    with transaction.atomic():
        treatment = SymptomaticTreatment.objects.create(
            patient=patient,
            kind=kind,
            drug=drug.strip(),
            indication=indication,
            dose=dose,
            started_on=started_on,
            stopped_on=stopped_on,
            note=note,
            recorded_by=by,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.TREATMENT,
            obj=treatment,
            detail="symptomatic treatment recorded",
        )
    return treatment


def stop_symptomatic_treatment(
    *, treatment: SymptomaticTreatment, stopped_on: date, by: User
) -> SymptomaticTreatment:
    if stopped_on < treatment.started_on:
        raise TreatmentError("The stop date cannot be before the start.", field="stopped_on")
    if stopped_on > timezone.localdate():
        raise TreatmentError("The stop date cannot be in the future.", field="stopped_on")
    with transaction.atomic():
        treatment.stopped_on = stopped_on
        treatment.save(update_fields=["stopped_on"])
        audit.record(
            user=by,
            patient=treatment.patient_id,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=treatment,
            detail="symptomatic treatment stopped",
        )
    return treatment
