"""Materialising monitoring: a plan's protocol and the general duties turned into dated
monitoring items (idempotent upserts), extended as the horizon moves and cancelled when a plan
ends.

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from patients.models import Patient, PatientStatus, Sex
from treatments.alerts import services as alerts
from treatments.catalogue.services import protocol_version_for
from treatments.models import (
    CURRENT_STATUSES,
    GENERAL_DRUG_KEY,
    GO_LIVE_MARKABLE,
    OPEN_STATUSES,
    AlertKind,
    CarePlan,
    ClinicSettings,
    DmtPlan,
    ItemStatus,
    MonitoringItem,
    PmlProfile,
    ProtocolVersion,
    ResultValue,
)
from treatments.plans import duties
from treatments.protocols import (
    Condition,
    DueItem,
    PlanEvents,
    Protocol,
    add_months,
    schedule,
    triggered_conditions,
)
from treatments.safety.signals import pml_surveillance_changed

if TYPE_CHECKING:
    pass


HORIZON_MONTHS = 13
BEFORE_GO_LIVE_NOTE = "Closed automatically: due before the clinic's go-live date."
logger = logging.getLogger("myelin.treatments")
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


@dataclass(frozen=True)
class PlanConditions:
    """The conditions a plan is scheduled with, and since when each one the PML risk engine
    switched on (rather than a clinician on the plan) has held."""

    conditions: list[str]
    switched_on: dict[str, date]


def plan_conditions(plan: DmtPlan, protocol: Protocol) -> PlanConditions:
    """Those a clinician confirmed on the plan; those the protocol's baseline results switch on
    (fingolimod's prolonged QTc, from the last value on or before the first dose); and for
    natalizumab the surveillance the PML risk engine set (`PmlProfile.schedule_condition`).

    The two PML conditions are exclusive (§4.2): the more frequent one wins, whether the
    clinician or the risk engine chose it, so neither can lengthen the other's surveillance.
    """
    chosen = set(plan.conditions)
    chosen |= {c.value for c in _triggered(plan, protocol)}
    switched_on: dict[str, date] = {}
    if plan.drug_key.startswith("natalizumab"):
        found = (
            PmlProfile.objects.filter(plan=plan)
            .values_list("schedule_condition", "schedule_condition_since")
            .first()
        )
        if found is not None and found[0]:
            condition, since = found
            if condition not in chosen and since is not None:
                switched_on[condition] = since
            chosen.add(condition)
    if Condition.PML_HIGH_RISK.value in chosen:
        chosen.discard(Condition.JCV_POSITIVE.value)
    return PlanConditions(_engine_conditions(plan.patient, sorted(chosen)), switched_on)


def _triggered(plan: DmtPlan, protocol: Protocol) -> set[Condition]:
    if not protocol.condition_triggers or plan.started_on is None:
        return set()
    baseline: dict[str, float] = {}
    for analyte in {t.analyte for t in protocol.condition_triggers}:
        value = (
            ResultValue.objects.filter(
                result__patient_id=plan.patient_id,
                result__correction="",
                analyte=analyte,
                result__taken_on__lte=plan.started_on,
            )
            .order_by("-result__taken_on", "-result_id")
            .values_list("value", flat=True)
            .first()
        )
        if value is not None:
            baseline[analyte] = float(value)
    return triggered_conditions(protocol, baseline, sex=plan.patient.sex)


def _from_switch_on(
    protocol: Protocol,
    due: list[DueItem],
    owed: set[tuple[str, date, int]],
    chosen: PlanConditions,
) -> tuple[list[DueItem], set[tuple[str, date, int]]]:
    """Drop the items of rules switched on later whose window had closed by then: a patient
    found to be at high PML risk at month 23 starts 3-monthly MRI now, with no overdue scans
    from months 18 and 21 that nobody could have known about."""
    if not chosen.switched_on:
        return due, owed
    active = set(chosen.conditions)
    kept, dropped = [], set()
    for item in due:
        enabling = [c.value for c in protocol.rule(item.rule_key).when if c.value in active]
        since = min((chosen.switched_on.get(c, date.min) for c in enabling), default=date.min)
        if item.window_closes_on < since:
            dropped.add(item.key)
        else:
            kept.append(item)
    return kept, owed - dropped


def sync_plan_monitoring(*, plan: DmtPlan, on: date) -> SyncReport:
    """Upsert the plan's items from its pinned protocol up to on + 13 months (idempotent).
    A transferred or deceased patient's plan owes nothing more, even the duties that outlive a
    stop: its open items are cancelled (treatments.plans.status)."""
    if plan.started_on is None:
        return SyncReport()
    if plan.patient.status != PatientStatus.ACTIVE:
        closing = list(plan.items.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
        if not closing:
            return SyncReport()
        cancelled = MonitoringItem.objects.filter(pk__in=closing).update(
            status=ItemStatus.CANCELLED,
            cancelled_reason=(
                f"No longer due: patient {plan.patient.get_status_display().lower()}."
            ),
            updated_at=timezone.now(),
        )
        status = plan.patient.get_status_display().lower()
        close_item_alerts(closing, f"Closed automatically: patient {status}.")
        return SyncReport(cancelled=cancelled)
    events = plan.plan_events(list(plan.administrations.standing()), list(plan.interruptions.all()))
    protocol = plan.protocol_version.protocol
    chosen = plan_conditions(plan, protocol)
    clinic = ClinicSettings.load()
    due, owed = _schedule(
        protocol,
        events,
        on=on,
        items=plan.items.all(),
        review_interval_months=clinic.review_interval_months,
        conditions=chosen.conditions,
    )
    due, owed = _from_switch_on(protocol, due, owed, chosen)
    return _upsert(
        owner={"plan": plan},
        patient_id=plan.patient_id,
        version=plan.protocol_version,
        due=due,
        owed=owed,
        reason=_cancel_reason(plan),
        go_live_on=clinic.go_live_on,
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
                status = patient.get_status_display().lower()
                close_item_alerts(closing, f"Closed automatically: patient {status}.")
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
    # One item per duty: a general duty the drug's protocol asks for on the same day is the drug
    # item's; an EDSS on the record closes the review it answers (treatments.plans.duties).
    due, merged = duties.merge_with_drug_items(patient_id=patient.pk, general=due)
    report = _upsert(
        owner={"care_plan": care_plan},
        patient_id=patient.pk,
        version=care_plan.protocol_version,
        due=due,
        owed=owed - set(merged),
        reason=f"No longer due: general duties now counted from the {label}.",
        reasons=merged,
        go_live_on=clinic.go_live_on,
    )
    duties.close_reviews_by_edss(patient_ids=[patient.pk])
    return report


def resync_plan(*, plan: DmtPlan, on: date) -> SyncReport:
    """A plan's items changed outside the daily sweep (a dose, a stop, a condition, a PML
    category): its own items, then the patient's general duties, which merge with them."""
    return sync_plan_monitoring(plan=plan, on=on) + sync_care_plan(patient=plan.patient, on=on)


@receiver(pml_surveillance_changed, dispatch_uid="plans.resync_on_pml_surveillance")
def _resync_on_pml_surveillance(sender: Any, *, plan: DmtPlan, on: date, **kwargs: Any) -> None:
    """A PML category changed the plan's surveillance (treatments.safety.services): its MRI
    items follow, in the same transaction."""
    resync_plan(plan=plan, on=on)


def _upsert(
    *,
    owner: dict[str, Any],
    patient_id: int,
    version: ProtocolVersion,
    due: list[DueItem],
    owed: set[tuple[str, date, int]],
    reason: str,
    reasons: dict[tuple[str, date, int], str] | None = None,
    go_live_on: date | None = None,
) -> SyncReport:
    """Make the owner's items match the engine's list, keyed on (rule, anchor, occurrence).

    New keys are inserted (ignore_conflicts: a concurrent sync that won the race already did);
    open rows whose dates changed are updated; open rows the engine no longer returns are
    cancelled. Done and waived
    rows are never touched; a cancelled row the engine wants again is reopened.

    An item due before the clinic's go-live date is stored as "before go-live" (a history
    entered afterwards: the anchors are real, but nobody was tracking then), and one whose due
    date moves across that date is re-marked, so it never alerts and the first item after
    go-live is the first one a nurse sees. A booked row keeps its booking.
    """
    now = timezone.now()
    with transaction.atomic():
        existing = {
            item.key: item for item in MonitoringItem.objects.select_for_update().filter(**owner)
        }
        wanted = {item.key: item for item in due}
        new = [
            _new_item(d, owner=owner, patient_id=patient_id, version=version, go_live_on=go_live_on)
            for key, d in wanted.items()
            if key not in existing
        ]
        MonitoringItem.objects.bulk_create(new, ignore_conflicts=True)
        changed: list[MonitoringItem] = []
        cancelled: list[MonitoringItem] = []
        gone_before_go_live: list[int] = []
        for key, item in existing.items():
            if item.is_settled:
                continue
            d = wanted.get(key)
            if d is None:
                if key not in owed and (item.is_open or item.is_before_go_live):
                    item.status = ItemStatus.CANCELLED
                    item.cancelled_reason = (reasons or {}).get(key, reason)[:200]
                    item.updated_at = now
                    cancelled.append(item)
                continue
            fresh = (d.due_on, d.window_opens_on, d.window_closes_on, d.explanation)
            current = (item.due_on, item.window_opens_on, item.window_closes_on, item.explanation)
            status = item.status
            if item.status == ItemStatus.CANCELLED or item.status in GO_LIVE_MARKABLE:
                status = MonitoringItem.go_live_status(d.due_on, go_live_on)
            if status != item.status or fresh != current:
                item.due_on, item.window_opens_on, item.window_closes_on, item.explanation = fresh
                if item.status == ItemStatus.CANCELLED:
                    item.cancelled_reason = ""
                if status == ItemStatus.BEFORE_GO_LIVE and item.status != status:
                    item.overdue_since = None
                    gone_before_go_live.append(item.pk)
                item.status = status
                item.updated_at = now
                changed.append(item)
        fields = [
            "status",
            "cancelled_reason",
            "due_on",
            "window_opens_on",
            "window_closes_on",
            "explanation",
            "overdue_since",
            "updated_at",
        ]
        MonitoringItem.objects.bulk_update([*changed, *cancelled], fields)
        if cancelled:
            close_item_alerts(
                [item.pk for item in cancelled], "Closed automatically: the check is no longer due."
            )
        if gone_before_go_live:
            close_item_alerts(gone_before_go_live, BEFORE_GO_LIVE_NOTE)
    return SyncReport(len(new), len(changed), len(cancelled))


def _new_item(
    d: DueItem,
    *,
    owner: dict[str, Any],
    patient_id: int,
    version: ProtocolVersion,
    go_live_on: date | None,
) -> MonitoringItem:
    return MonitoringItem(
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
        status=MonitoringItem.go_live_status(d.due_on, go_live_on),
        **owner,
    )


def materialise_new(*, patients: Sequence[Patient], on: date) -> int:
    """Set-based first materialisation for patients with no monitoring yet (the go-live
    import): each started plan's items and the general duties, with the same engine, anchors,
    horizon and go-live marking as sync_plan_monitoring and sync_care_plan, in a few bulk
    inserts instead of a dozen queries a plan. A patient who already has a care plan or a plan
    with items is skipped: the sync functions keep those. Returns the items created."""
    clinic = ClinicSettings.load()
    horizon = horizon_for(on)
    by_id = {p.pk: p for p in patients if p.status == PatientStatus.ACTIVE}
    has_items = set(
        MonitoringItem.objects.filter(patient_id__in=list(by_id)).values_list(
            "patient_id", flat=True
        )
    )
    has_items |= set(
        CarePlan.objects.filter(patient_id__in=list(by_id)).values_list("patient_id", flat=True)
    )
    fresh = {pk: p for pk, p in by_id.items() if pk not in has_items}
    plans = list(
        DmtPlan.objects.filter(patient_id__in=list(fresh), started_on__isnull=False)
        .select_related("protocol_version")
        .prefetch_related("administrations")
        .order_by("started_on", "id")
    )
    items: list[MonitoringItem] = []
    latest: dict[int, DmtPlan] = {}
    for plan in plans:
        patient = fresh[plan.patient_id]
        latest[patient.pk] = plan
        due = schedule(
            plan.protocol_version.protocol,
            plan.plan_events(list(plan.administrations.all())),
            horizon=horizon,
            review_interval_months=clinic.review_interval_months,
            conditions=_engine_conditions(patient, plan.conditions),
        )
        items += [
            _new_item(
                d,
                owner={"plan": plan},
                patient_id=patient.pk,
                version=plan.protocol_version,
                go_live_on=clinic.go_live_on,
            )
            for d in due
        ]
    version = protocol_version_for(drug_key=GENERAL_DRUG_KEY, region=clinic.label_region, on=on)
    care_plans = []
    for patient in fresh.values():
        newest = latest.get(patient.pk)
        if newest is not None and newest.started_on is not None:
            anchor_on, label = newest.started_on, f"start of {newest.drug_name}"
        elif patient.diagnosis_on is not None:
            anchor_on, label = patient.diagnosis_on, "diagnosis"
        else:
            anchor_on, label = on, "start of tracking"
        care_plans.append(
            CarePlan(
                patient=patient,
                protocol_version=version,
                anchor_on=anchor_on,
                anchor_label=label,
                tracking_from=on,
            )
        )
    CarePlan.objects.bulk_create(care_plans, batch_size=1000)
    general = version.protocol
    for care_plan in care_plans:
        due = schedule(
            general,
            PlanEvents(first_dose_on=care_plan.anchor_on),
            horizon=horizon,
            review_interval_months=clinic.review_interval_months,
        )
        items += [
            _new_item(
                d,
                owner={"care_plan": care_plan},
                patient_id=care_plan.patient_id,
                version=version,
                go_live_on=clinic.go_live_on,
            )
            for d in due
            if d.window_closes_on >= care_plan.tracking_from
        ]
    MonitoringItem.objects.bulk_create(items, batch_size=2000, ignore_conflicts=True)
    return len(items)


def extend_monitoring(*, on: date) -> SyncReport:
    """Re-sync every running plan's items and every patient's general duties up to on + 13
    months. Level-triggered and idempotent: the alerts engine's periodic sweep calls it."""
    report = SyncReport()
    # Stopped plans while they still owe something, and always when their protocol has a
    # recurring duty that outlives the stop (mitoxantrone's yearly LVEF, alemtuzumab's yearly
    # skin check): a yearly item done early can leave nothing open before the next one is
    # within the horizon, and the series must not end there.
    still_owing = MonitoringItem.objects.filter(plan=OuterRef("pk"), status__in=OPEN_STATUSES)
    plans = (
        DmtPlan.objects.filter(started_on__isnull=False)
        .filter(
            Q(status__in=CURRENT_STATUSES)
            | Q(Exists(still_owing))
            | Q(protocol_version_id__in=_versions_with_recurring_duties_after_stop())
        )
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


def _versions_with_recurring_duties_after_stop() -> list[int]:
    return [
        version.pk
        for version in ProtocolVersion.objects.all()
        if any(r.is_recurring and r.survives_stop for r in version.protocol.monitoring_rules)
    ]


def close_item_alerts(item_ids: Iterable[int], note: str) -> None:
    """Resolve the overdue / due-soon alerts of items just closed, in the caller's transaction
    (the periodic sweeps would too, up to 15 minutes later; a nurse expects it now)."""
    alerts.resolve_raised_by(
        raised_by_type="treatments.monitoringitem",
        raised_by_ids=item_ids,
        note=note,
        kinds=(AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON),
    )
