"""Alert workflows: raising (idempotently), routing, the lifecycle, and notifications.

Record first, notify second: an alert row exists before anyone is told. A critical alert or an
escalation is claimed with a compare-and-swap update, and its email recorded in the outbox in
the same transaction (treatments.alerts.outbox sends it at least once: see there for why). The
daily digest is claimed with a (user, day) row before it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure, may
from patients.models import Patient
from treatments.alerts import outbox
from treatments.models import (
    ACTIVE_STATUSES,
    Alert,
    AlertFamily,
    AlertGrade,
    AlertKind,
    AlertStatus,
    EmailPurpose,
)

logger = logging.getLogger("myelin.alerts")


class AlertError(ValueError):
    """A lifecycle step that is not allowed; the message is shown to the user."""


@dataclass(frozen=True)
class AlertSpec:
    patient_id: int
    kind: str
    grade: str
    condition_key: str
    title: str
    detail: str = ""
    action: str = ""
    source: str = ""
    raised_by_type: str = ""
    raised_by_id: str = ""
    ctcae_grade: int | None = None
    owner_id: int | None = None  # when the raiser knows the owner (a referral's owner)
    extra: dict[str, str] = field(default_factory=dict)


# Routing: who owns an alert, by kind and grade. Monitoring work goes to the patient's nurse;
# anything critical, and decisions about the disease or the drug, go to the neurologist.
NURSE_KINDS = frozenset(
    {AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON, AlertKind.ABNORMAL_RESULT}
)


def preferred_role(kind: str, grade: str) -> str:
    if grade == AlertGrade.CRITICAL:
        return "neurologist"
    return "nurse" if kind in NURSE_KINDS else "neurologist"


def route(specs: Sequence[AlertSpec]) -> dict[str, int | None]:
    """Owner id per condition key, with one query for all the patients involved."""
    patient_ids = {s.patient_id for s in specs if s.owner_id is None}
    people = dict(
        (pid, (nurse, neuro))
        for pid, nurse, neuro in Patient.objects.filter(pk__in=patient_ids).values_list(
            "pk", "nurse_id", "neurologist_id"
        )
    )
    owners: dict[str, int | None] = {}
    for spec in specs:
        if spec.owner_id is not None:
            owners[spec.condition_key] = spec.owner_id
            continue
        nurse, neuro = people.get(spec.patient_id, (None, None))
        first, second = (
            (nurse, neuro) if preferred_role(spec.kind, spec.grade) == "nurse" else (neuro, nurse)
        )
        owners[spec.condition_key] = first or second
    return owners


def raise_alerts(specs: Sequence[AlertSpec], *, at: datetime | None = None) -> int:
    """Create the alerts that do not exist yet; return how many this call created.

    Safe to call again with the same specs, and concurrently: the unique condition key lets the
    database refuse duplicates (ON CONFLICT DO NOTHING), so nothing is doubled and nothing is
    lost. Critical alerts are then queued for an immediate email after commit.
    """
    if not specs:
        return 0
    at = at or timezone.now()
    unique = {spec.condition_key: spec for spec in specs}
    owners = route(list(unique.values()))
    rows = [
        Alert(
            patient_id=spec.patient_id,
            kind=spec.kind,
            grade=spec.grade,
            ctcae_grade=spec.ctcae_grade,
            condition_key=spec.condition_key,
            title=spec.title[:200],
            detail=spec.detail,
            action=spec.action[:300],
            source=spec.source[:200],
            raised_by_type=spec.raised_by_type,
            raised_by_id=spec.raised_by_id,
            owner_id=owners[spec.condition_key],
            created_at=at,
        )
        for spec in unique.values()
    ]
    with transaction.atomic():
        before = Alert.objects.filter(condition_key__in=unique).count()
        Alert.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        created = Alert.objects.filter(condition_key__in=unique).count() - before
        if any(spec.grade == AlertGrade.CRITICAL for spec in unique.values()):
            from clinic.celery import enqueue_on_commit

            enqueue_on_commit("treatments.send_critical_alert_emails")
    return created


def auto_resolve(
    alerts: Iterable[int] | None = None, *, note: str, queryset=None, at: datetime | None = None
) -> int:  # type: ignore[no-untyped-def]
    """Resolve active alerts whose condition has cleared (a result arrived, an item was waived,
    a plan stopped). A set-based update; repeated calls change nothing."""
    qs = queryset if queryset is not None else Alert.objects.filter(pk__in=list(alerts or []))
    return qs.filter(status__in=ACTIVE_STATUSES).update(
        status=AlertStatus.RESOLVED,
        resolved_at=at or timezone.now(),
        resolved_automatically=True,
        resolution_note=note[:500],
    )


def resolve_raised_by(
    *,
    raised_by_type: str,
    raised_by_ids: Iterable[object],
    note: str,
    kinds: Iterable[str] | None = None,
) -> int:
    qs = Alert.objects.filter(
        raised_by_type=raised_by_type, raised_by_id__in=[str(i) for i in raised_by_ids]
    )
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return auto_resolve(queryset=qs, note=note)


# ---------------------------------------------------------------------------------------------
# Lifecycle, by a person
# ---------------------------------------------------------------------------------------------
VERBS = ("acknowledge", "snooze", "resolve")
# Who may take each step depends on the alert's family (Alert.family): the permission table.
CAPABILITIES: dict[tuple[str, str], Perm] = {
    (AlertFamily.SAFETY, "acknowledge"): Perm.ALERT_SAFETY_ACKNOWLEDGE,
    (AlertFamily.SAFETY, "snooze"): Perm.ALERT_SAFETY_SNOOZE,
    (AlertFamily.SAFETY, "resolve"): Perm.ALERT_SAFETY_RESOLVE,
    (AlertFamily.REFERRAL, "acknowledge"): Perm.ALERT_REFERRAL_ACKNOWLEDGE,
    (AlertFamily.REFERRAL, "snooze"): Perm.ALERT_REFERRAL_SNOOZE,
    (AlertFamily.REFERRAL, "resolve"): Perm.ALERT_REFERRAL_RESOLVE,
}


def capability_for(alert: Alert, verb: str) -> Perm:
    return CAPABILITIES[(alert.family, verb)]


def allowed_steps(user: User, alert: Alert) -> dict[str, bool]:
    """Which of acknowledge, snooze and resolve `user` may take on `alert` (for its buttons)."""
    return {verb: may(user, capability_for(alert, verb)) for verb in VERBS}


def _audit(alert: Alert, by: User, detail: str) -> None:
    audit.record(
        user=by,
        patient=alert.patient_id,
        action=Action.UPDATE,
        category=Category.ALERT,
        obj=alert,
        detail=detail,
    )


def acknowledge(*, alert: Alert, by: User) -> Alert:
    ensure(by, capability_for(alert, "acknowledge"))
    if alert.status == AlertStatus.RESOLVED:
        raise AlertError("This alert is already resolved.")
    with transaction.atomic():
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = by
        alert.snoozed_until = None
        alert.snooze_reason = ""
        alert.save(
            update_fields=[
                "status",
                "acknowledged_at",
                "acknowledged_by",
                "snoozed_until",
                "snooze_reason",
            ]
        )
        _audit(alert, by, "acknowledged")
    return alert


# At most this many alerts in one bulk acknowledgement (a page of the compact inbox is 50).
BULK_LIMIT = 100


@dataclass(frozen=True)
class BulkOutcome:
    acknowledged: int
    skipped: int  # not found, out of scope, read-only, not this role's family, or resolved


def acknowledge_many(*, alert_ids: Iterable[int], by: User) -> BulkOutcome:
    """Acknowledge the alerts `alert_ids` names that `by` may change: of their own teams'
    patients (never through an emergency grant), of a family their role may acknowledge, and
    not resolved. Each one is acknowledged, and audited, on its own, as the row's button does;
    anything else in the list is skipped and counted, never an error."""
    ensure(by, Perm.ALERT_BULK_ACKNOWLEDGE)
    wanted = sorted(set(alert_ids))[:BULK_LIMIT]
    acknowledged = 0
    for alert in (
        Alert.objects.editable_by(by)
        .filter(pk__in=wanted, status__in=(AlertStatus.OPEN, AlertStatus.SNOOZED))
        .order_by("pk")
    ):
        if not may(by, capability_for(alert, "acknowledge")):
            continue
        acknowledge(alert=alert, by=by)
        acknowledged += 1
    return BulkOutcome(acknowledged=acknowledged, skipped=len(set(alert_ids)) - acknowledged)


def max_snooze() -> timedelta:
    return timedelta(days=settings.ALERT_MAX_SNOOZE_DAYS)


def snooze(*, alert: Alert, by: User, until: datetime, reason: str) -> Alert:
    ensure(by, capability_for(alert, "snooze"))
    reason = reason.strip()
    now = timezone.now()
    if alert.status == AlertStatus.RESOLVED:
        raise AlertError("This alert is already resolved.")
    if not reason:
        raise AlertError("Say why the alert can wait.")
    if until <= now:
        raise AlertError("Snooze until a time in the future.")
    if until - now > max_snooze():
        raise AlertError(
            f"An alert can be snoozed for at most {settings.ALERT_MAX_SNOOZE_DAYS} days."
        )
    if alert.grade == AlertGrade.CRITICAL and until - now > timedelta(days=1):
        raise AlertError("A critical alert can be snoozed for at most one day.")
    with transaction.atomic():
        alert.status = AlertStatus.SNOOZED
        alert.snoozed_until = until
        alert.snooze_reason = reason[:300]
        alert.save(update_fields=["status", "snoozed_until", "snooze_reason"])
        _audit(alert, by, "snoozed")
    return alert


def resolve(*, alert: Alert, by: User, note: str) -> Alert:
    ensure(by, capability_for(alert, "resolve"))
    note = note.strip()
    if alert.status == AlertStatus.RESOLVED:
        raise AlertError("This alert is already resolved.")
    if not note:
        raise AlertError("Write a note saying how it was resolved.")
    with transaction.atomic():
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = timezone.now()
        alert.resolved_by = by
        alert.resolution_note = note
        alert.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
        _audit(alert, by, "resolved")
    return alert


def wake_snoozed(*, at: datetime | None = None) -> int:
    """Snoozes that have run out become open again (level-triggered; idempotent)."""
    at = at or timezone.now()
    return Alert.objects.filter(status=AlertStatus.SNOOZED, snoozed_until__lte=at).update(
        status=AlertStatus.OPEN, snoozed_until=None
    )


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------
def send_critical_alert_emails(*, at: datetime | None = None) -> int:
    """Email each new critical alert's owner, through the outbox (treatments.alerts.outbox).
    Returns how many emails this run sent (escalations that were due included)."""
    at = at or timezone.now()
    queue_critical_emails(at=at)
    return outbox.deliver(at=at)


def queue_critical_emails(*, at: datetime) -> int:
    """Record the owner's email of each critical alert nobody was told about yet. Marking the
    alert told and recording its email happen in one transaction, so an alert is never marked
    without its email waiting in the outbox. Returns how many emails were recorded."""
    queued = 0
    candidates = list(
        Alert.objects.filter(
            grade=AlertGrade.CRITICAL, status=AlertStatus.OPEN, notified_at__isnull=True
        )
        .select_related("owner")
        .order_by("id")[:500]
    )
    for alert in candidates:
        with transaction.atomic():
            claimed = Alert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(
                notified_at=at
            )
            if not claimed:
                continue  # another sender recorded it
            if alert.owner is None or not alert.owner.email:
                logger.warning("Critical alert %s has no owner with an email address", alert.pk)
                continue
            outbox.queue(
                alert_id=alert.pk, recipient_id=alert.owner.pk, purpose=EmailPurpose.CRITICAL, at=at
            )
            queued += 1
    return queued


def escalate_unacknowledged(*, at: datetime | None = None) -> int:
    """An unacknowledged critical alert goes to the team's lead neurologist after the delay.
    The escalation and its email are recorded together; the outbox sends the email."""
    at = at or timezone.now()
    delay = timedelta(minutes=settings.ALERT_ESCALATION_MINUTES)
    due = list(
        Alert.objects.filter(
            grade=AlertGrade.CRITICAL,
            status=AlertStatus.OPEN,
            escalated_at__isnull=True,
            created_at__lte=at - delay,
        )
        .select_related("patient__care_team__lead_neurologist")
        .order_by("id")[:500]
    )
    escalated = 0
    for alert in due:
        lead = alert.patient.care_team.lead_neurologist
        with transaction.atomic():
            claimed = Alert.objects.filter(
                pk=alert.pk, escalated_at__isnull=True, status=AlertStatus.OPEN
            ).update(escalated_at=at, escalated_to=lead)
            if not claimed:
                continue
            escalated += 1
            if lead is None or not lead.email:
                logger.warning(
                    "Critical alert %s could not be escalated: no lead neurologist with email",
                    alert.pk,
                )
                continue
            outbox.queue(
                alert_id=alert.pk, recipient_id=lead.pk, purpose=EmailPurpose.ESCALATION, at=at
            )
    outbox.deliver(at=at)
    return escalated


def send_daily_digests(*, at: datetime | None = None) -> int:
    """The daily digest (treatments.alerts.digest): each clinician's preferences decide when it
    goes and what it counts."""
    from treatments.alerts import digest

    return digest.send_daily_digests(at=at)


def inbox_count(user: User) -> int:
    if not may(user, Perm.PATIENT_VIEW):
        return 0
    return Alert.objects.needing_attention().filter(owner=user).count()


def team_filter(user: User) -> Q:
    return Q(patient__care_team__in=user.care_teams.all())
