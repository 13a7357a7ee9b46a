"""Periodic sweeps: what must be flagged when nobody is looking. Never missed, never doubled.

Every sweep is *level-triggered*: it recomputes from the database which conditions hold now
(an open item whose window has closed, a referral unanswered past its deadline, ...) and makes
the alerts match, so a lost, repeated, concurrent or killed run changes nothing that the next
run does not put right. The rules:

* "Today" is the clinic's calendar day at the sweep's instant (``settings.TIME_ZONE``); beat
  runs in UTC, so a sweep at 23:30 UTC is already tomorrow in Sydney.
* Work is claimed in chunks, each in its own transaction: candidate rows are locked with
  ``select_for_update(skip_locked=True)`` (a second sweep takes the next rows instead of
  waiting), alerts are created with one ``bulk_create(ignore_conflicts=True)`` against the
  unique condition key, and a chunk that dies rolls back whole. Candidates are only rows
  *without a standing alert*, so a repeated run finds nothing to do and a killed run's
  remainder is simply the next run's work.
* An alert resolved automatically (the condition cleared) is reopened if its condition holds
  again, e.g. an item re-anchored by a new dose that becomes due soon months later: the key
  stays ``due_soon:item:<id>`` and the row comes back, with its title refreshed. An alert a
  person resolved stays resolved for as long as the item keeps its id: they decided about it.
* Resolution is set-based: one UPDATE per reason, so the note tells the clinician why.
* Errors are handled per row, with the row's id in the log; never a blanket ``except``.

Who owns a breached referral's alert: the **referrer** (``Referral.referred_by``). The
receiving side already sees the clock on its board, and for services outside the MS team
(ophthalmology, continence, ...) nobody on the receiving side has a Myelin login; the referrer
is one named person who knows why they asked and can chase it. A referrer who has left (an
inactive account) is replaced by the patient's neurologist through the usual routing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import pghistory
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from patients.models import CourseState, Patient, PatientStatus, Referral
from patients.models.referrals import AWAITING_RESPONSE, ReferralState
from treatments.alerts import services as alerts
from treatments.alerts.services import AlertSpec
from treatments.models import (
    ACTIVE_STATUSES,
    CURRENT_STATUSES,
    DONE_STATUSES,
    OPEN_STATUSES,
    Alert,
    AlertGrade,
    AlertKind,
    AlertStatus,
    DmtPlan,
    ItemStatus,
    MonitoringItem,
)
from treatments.monitoring import overdue
from treatments.plans import schedule
from treatments.protocols.engine import add_months

logger = logging.getLogger("myelin.sweeps")

CHUNK_SIZE = 500
# §0.3 of the monitoring reference: INFO "item due soon (e.g. within 14 days)". The worklist's
# "due this week" section (monitoring.DUE_SOON_DAYS) is a narrower, separate view.
DUE_SOON_ALERT_DAYS = 14
NO_EDSS_MONTHS = 12

ITEM_TYPE = "treatments.monitoringitem"
REFERRAL_TYPE = "patients.referral"
PATIENT_TYPE = "patients.patient"
ITEM_KINDS = (AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON)


@dataclass(frozen=True)
class SweepResult:
    """What one run did; a repeated run reports zeros."""

    created: int = 0  # alerts (or, for extend_monitoring, items) created
    resolved: int = 0  # alerts resolved because their condition cleared
    reopened: int = 0  # automatically resolved alerts whose condition holds again
    claimed: int = 0  # items whose overdue_since this run set
    failed: int = 0  # rows skipped with an error in the log (retried next run)
    updated: int = 0  # extend_monitoring: items whose dates moved
    cancelled: int = 0  # extend_monitoring: items no longer due

    def __add__(self, other: SweepResult) -> SweepResult:
        return SweepResult(**{k: v + getattr(other, k) for k, v in asdict(self).items()})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _recorded_as[**P, R](job: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Everything a sweep writes is kept in the history under a context naming the sweep, so
    "who changed this alert?" has an answer. Having a context set also keeps pghistory's trigger
    on its fast path in big statements (see DATABASES OPTIONS in clinic/settings.py)."""

    def decorate(sweep: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(sweep)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with pghistory.context(job=job):
                return sweep(*args, **kwargs)

        return run

    return decorate


def clinic_today(at: datetime) -> date:
    """The clinic's calendar day at instant `at` (settings.TIME_ZONE, whatever is activated)."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def _now(at: datetime | None) -> datetime:
    return at if at is not None else timezone.now()


# ---------------------------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------------------------
def _standing(prefix: str) -> Exists:
    """An alert for the outer row's condition that needs no action from a sweep: active, or
    resolved by a person. (Auto-resolved ones are reopened when the condition returns.)"""
    key = Concat(Value(prefix), Cast(OuterRef("pk"), CharField()), output_field=CharField())
    return Exists(
        Alert.objects.filter(condition_key=key).exclude(
            status=AlertStatus.RESOLVED, resolved_automatically=True
        )
    )


def _lock_chunk[M: (MonitoringItem, Referral)](
    candidates: QuerySet[M], *, after: int, size: int
) -> list[M]:
    """The next `size` candidate rows after id `after`, locked for the caller's transaction.

    Keyset pagination by id; rows another transaction holds are skipped, not waited for (a
    concurrent sweep is handling them, or a clinician is closing them this instant; either way
    the next run sees the outcome). Call inside ``transaction.atomic()``.
    """
    return list(
        candidates.filter(pk__gt=after)
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))[:size]
    )


def _raise(specs: Sequence[AlertSpec], *, at: datetime) -> tuple[int, int]:
    """Create the missing alerts and reopen automatically resolved ones; (created, reopened)."""
    if not specs:
        return 0, 0
    created = alerts.raise_alerts(specs, at=at)
    by_key = {spec.condition_key: spec for spec in specs}
    returning = list(
        Alert.objects.filter(
            condition_key__in=by_key,
            status=AlertStatus.RESOLVED,
            resolved_automatically=True,
        )
    )
    for alert in returning:
        spec = by_key[alert.condition_key]
        alert.status = AlertStatus.OPEN
        alert.title, alert.detail = spec.title[:200], spec.detail
        alert.resolved_at = None
        alert.resolved_automatically = False
        alert.resolution_note = ""
        # A returning condition is news: it goes back to the top of the inbox.
        alert.created_at = at
    Alert.objects.bulk_update(
        returning,
        [
            "status",
            "title",
            "detail",
            "resolved_at",
            "resolved_automatically",
            "resolution_note",
            "created_at",
        ],
    )
    return created, len(returning)


def _specs[R](
    rows: Iterable[R], build: Callable[[R], AlertSpec], *, sweep: str
) -> tuple[list[AlertSpec], int]:
    """Build one spec per row; a row that cannot be described is logged by id and skipped."""
    specs: list[AlertSpec] = []
    failed = 0
    for row in rows:
        try:
            specs.append(build(row))
        except (LookupError, ValueError, TypeError):
            failed += 1
            logger.exception("%s sweep skipped %r; it is retried on the next run", sweep, row)
    return specs, failed


def _resolve(
    active: QuerySet[Alert], reasons: Sequence[tuple[Q | Exists, str]], at: datetime
) -> int:
    return sum(
        alerts.auto_resolve(queryset=active.filter(condition), note=note, at=at)
        for condition, note in reasons
    )


def _item_of_alert() -> QuerySet[MonitoringItem]:
    return MonitoringItem.objects.filter(pk=Cast(OuterRef("raised_by_id"), BigIntegerField()))


def _item_reasons() -> list[tuple[Q | Exists, str]]:
    item = _item_of_alert()
    return [
        (Exists(item.filter(status__in=DONE_STATUSES)), "Closed automatically: result recorded."),
        (Exists(item.filter(status=ItemStatus.WAIVED)), "Closed automatically: check waived."),
        (
            Exists(item.filter(status=ItemStatus.CANCELLED)),
            "Closed automatically: the check is no longer due.",
        ),
        # An item re-marked "before go-live" (the go-live date moved later) is no one's work:
        # the write that marked it closed its alerts; this is the level-triggered safety net.
        (
            Exists(item.filter(status=ItemStatus.BEFORE_GO_LIVE)),
            "Closed automatically: due before the clinic's go-live date.",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Overdue monitoring
# ---------------------------------------------------------------------------------------------
def overdue_candidates(*, on: date) -> QuerySet[MonitoringItem]:
    """Overdue items the sweep still has to flag: never flagged this episode (served by
    monitoring_unflagged_open_idx). Empty after a complete run, which is what makes a repeat
    an index probe. Flagged items whose alert may have stopped standing are on the recheck
    list (OverdueRecheck), which the database's triggers keep."""
    return MonitoringItem.objects.overdue(on=on).filter(overdue_since__isnull=True)


OVERDUE_CHUNK_SIZE = 2000


@_recorded_as("sweep_overdue")
def sweep_overdue(
    *, at: datetime | None = None, chunk_size: int = OVERDUE_CHUNK_SIZE
) -> SweepResult:
    """Flag every open item whose window closed before today (clinic time): one WARNING alert
    `overdue:item:<id>` for the patient's nurse, and `overdue_since` set on the row once per
    episode; and settle the recheck list (resolve the alerts of items no longer overdue, raise
    or reopen those of items still overdue). Set-based, chunk by chunk, each chunk claimed with
    SKIP LOCKED (treatments.monitoring.overdue): any number of workers may run it at once,
    each doing what the others have not taken, until nothing is left."""
    at = _now(at)
    today = clinic_today(at)
    result = SweepResult()
    for take in (overdue.recheck_chunk, overdue.flag_chunk):
        while not (chunk := take(today=today, at=at, size=chunk_size)).empty:
            result += SweepResult(
                created=chunk.created,
                reopened=chunk.reopened,
                claimed=chunk.claimed,
                resolved=chunk.resolved,
            )
    return result


# ---------------------------------------------------------------------------------------------
# Due soon
# ---------------------------------------------------------------------------------------------
def _due_soon_spec(item: MonitoringItem) -> AlertSpec:
    return AlertSpec(
        patient_id=item.patient_id,
        kind=AlertKind.DUE_SOON,
        grade=AlertGrade.INFO,
        condition_key=f"due_soon:item:{item.pk}",
        title=(
            f"{item.investigation_name} due {item.due_on:%d %b %Y} "
            f"(window {item.window_opens_on:%d %b}–{item.window_closes_on:%d %b %Y})"
        ),
        detail=item.why,
        action="Book it with the patient.",
        source=item.source,
        raised_by_type=ITEM_TYPE,
        raised_by_id=str(item.pk),
    )


def due_soon_candidates(*, on: date) -> QuerySet[MonitoringItem]:
    return MonitoringItem.objects.due_within(on=on, days=DUE_SOON_ALERT_DAYS).filter(
        ~_standing("due_soon:item:")
    )


@_recorded_as("sweep_due_soon")
def sweep_due_soon(*, at: datetime | None = None, chunk_size: int = CHUNK_SIZE) -> SweepResult:
    """INFO alert `due_soon:item:<id>` for open items due within 14 days (and not overdue);
    resolved when the item is done, waived, cancelled, moved later or becomes overdue."""
    at = _now(at)
    today = clinic_today(at)
    result = SweepResult()
    candidates, last = due_soon_candidates(on=today), 0
    while True:
        with transaction.atomic():
            chunk = _lock_chunk(candidates, after=last, size=chunk_size)
            if not chunk:
                break
            specs, failed = _specs(chunk, _due_soon_spec, sweep="Due-soon")
            created, reopened = _raise(specs, at=at)
        result += SweepResult(created=created, reopened=reopened, failed=failed)
        last = chunk[-1].pk

    active = Alert.objects.filter(
        kind=AlertKind.DUE_SOON, raised_by_type=ITEM_TYPE, status__in=ACTIVE_STATUSES
    )
    item = _item_of_alert().filter(status__in=OPEN_STATUSES)
    resolved = _resolve(
        active,
        [
            *_item_reasons(),
            (
                Exists(item.filter(window_closes_on__lt=today)),
                "Closed automatically: now overdue; the overdue alert takes over.",
            ),
            (
                Exists(
                    item.filter(
                        window_closes_on__gte=today,
                        due_on__gt=today + timedelta(days=DUE_SOON_ALERT_DAYS),
                    )
                ),
                "Closed automatically: the check was moved later.",
            ),
        ],
        at,
    )
    return result + SweepResult(resolved=resolved)


# ---------------------------------------------------------------------------------------------
# Referrals past their deadline
# ---------------------------------------------------------------------------------------------
def _referral_spec(referral: Referral) -> AlertSpec:
    referrer = referral.referred_by
    due = timezone.localtime(referral.due_at, timezone.get_default_timezone())
    return AlertSpec(
        patient_id=referral.patient_id,
        kind=AlertKind.REFERRAL_OVERDUE,
        grade=AlertGrade.WARNING,
        condition_key=f"referral_overdue:referral:{referral.pk}",
        title=(
            f"{referral.get_urgency_display()} {referral.get_discipline_display().lower()} "
            f"referral not answered by its deadline ({due:%d %b %Y %H:%M})"
        ),
        detail=(
            f"Sent {timezone.localtime(referral.sent_at):%d %b %Y}; the target was "
            f"{referral.target_working_days} working days to accept or decline."
        ),
        action="Chase the receiving service, or cancel the referral with a reason.",
        source="Clinic referral response targets",
        raised_by_type=REFERRAL_TYPE,
        raised_by_id=str(referral.pk),
        owner_id=referrer.pk if referrer.is_active else None,
    )


@_recorded_as("sweep_breached_referrals")
def sweep_breached_referrals(
    *, at: datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> SweepResult:
    """WARNING `referral_overdue:referral:<id>` to the referrer for each referral still awaiting
    a response after `due_at`; resolved once it is accepted, declined or cancelled."""
    at = _now(at)
    candidates = (
        Referral.objects.breached(at=at)
        .filter(~_standing("referral_overdue:referral:"))
        .select_related("referred_by")
    )
    result, last = SweepResult(), 0
    while True:
        with transaction.atomic():
            chunk = _lock_chunk(candidates, after=last, size=chunk_size)
            if not chunk:
                break
            specs, failed = _specs(chunk, _referral_spec, sweep="Referral")
            created, reopened = _raise(specs, at=at)
        result += SweepResult(created=created, reopened=reopened, failed=failed)
        last = chunk[-1].pk

    active = Alert.objects.filter(
        kind=AlertKind.REFERRAL_OVERDUE, raised_by_type=REFERRAL_TYPE, status__in=ACTIVE_STATUSES
    )
    referral = Referral.objects.filter(pk=Cast(OuterRef("raised_by_id"), BigIntegerField()))
    resolved = _resolve(
        active,
        [
            (
                Exists(referral.filter(state=ReferralState.CANCELLED)),
                "Closed automatically: the referral was cancelled.",
            ),
            (
                Exists(referral.exclude(state__in=[*AWAITING_RESPONSE, ReferralState.CANCELLED])),
                "Closed automatically: the referral was answered.",
            ),
        ],
        at,
    )
    return result + SweepResult(resolved=resolved)


# ---------------------------------------------------------------------------------------------
# Missing EDSS
# ---------------------------------------------------------------------------------------------
def edss_watch_list() -> QuerySet[Patient]:
    """Patients whose disability must be followed: active, and on a current DMT or with a
    recorded disease course."""
    on_dmt = DmtPlan.objects.filter(patient=OuterRef("pk"), status__in=CURRENT_STATUSES)
    has_course = CourseState.objects.standing().filter(patient=OuterRef("pk"))
    return Patient.objects.filter(status=PatientStatus.ACTIVE).filter(
        Exists(on_dmt) | Exists(has_course)
    )


def no_edss_key(patient_id: int, latest_edss_on: date | None) -> str:
    since = latest_edss_on.isoformat() if latest_edss_on else "never"
    return f"no_edss:patient:{patient_id}:since:{since}"


def _no_edss_spec(row: tuple[int, date | None]) -> AlertSpec:
    patient_id, latest = row
    title = (
        f"No EDSS for {NO_EDSS_MONTHS} months (last on {latest:%d %b %Y})"
        if latest
        else "No EDSS on record"
    )
    return AlertSpec(
        patient_id=patient_id,
        kind=AlertKind.NO_EDSS,
        grade=AlertGrade.WARNING,
        condition_key=no_edss_key(patient_id, latest),
        title=title,
        detail="Disability is followed by at least one EDSS a year while on treatment.",
        action="Record an EDSS at the next review.",
        source="Myelin annual review rule",
        raised_by_type=PATIENT_TYPE,
        raised_by_id=str(patient_id),
    )


@_recorded_as("sweep_missing_edss")
def sweep_missing_edss(*, at: datetime | None = None, chunk_size: int = CHUNK_SIZE) -> SweepResult:
    """WARNING `no_edss:patient:<id>:since:<latest_edss_on|never>` for the neurologist of each
    watched patient whose latest EDSS is more than 12 months old (or who has none).

    The key carries the episode (the EDSS it counts from), so a newer EDSS resolves the alert
    and, should that one age too, a new alert follows. Patient rows are not locked: raising is
    idempotent by key, and patient rows are the ones clinicians are busy editing."""
    at = _now(at)
    today = clinic_today(at)
    cutoff = add_months(today, -NO_EDSS_MONTHS)
    watched = edss_watch_list().filter(
        Q(latest_edss_on__isnull=True) | Q(latest_edss_on__lt=cutoff)
    )
    result = SweepResult()
    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                watched.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "latest_edss_on")[:chunk_size]
            )
            if not rows:
                break
            specs, failed = _specs(rows, _no_edss_spec, sweep="Missing-EDSS")
            created, reopened = _raise(specs, at=at)
            # An older episode of the same patients (an EDSS was entered that is itself old).
            superseded = alerts.auto_resolve(
                queryset=Alert.objects.filter(
                    kind=AlertKind.NO_EDSS, patient_id__in=[pk for pk, _ in rows]
                ).exclude(condition_key__in=[s.condition_key for s in specs]),
                note="Closed automatically: a newer EDSS was recorded.",
                at=at,
            )
            result += SweepResult(
                created=created, reopened=reopened, failed=failed, resolved=superseded
            )
        last = rows[-1][0]

    active = Alert.objects.filter(kind=AlertKind.NO_EDSS, status__in=ACTIVE_STATUSES)
    resolved = _resolve(
        active,
        [
            (
                Q(patient__latest_edss_on__gte=cutoff),
                "Closed automatically: a newer EDSS was recorded.",
            ),
            (
                ~Q(patient__in=edss_watch_list()),
                "Closed automatically: the patient is no longer on treatment or under follow-up.",
            ),
        ],
        at,
    )
    return result + SweepResult(resolved=resolved)


# ---------------------------------------------------------------------------------------------
# Extending monitoring as time passes
# ---------------------------------------------------------------------------------------------
@_recorded_as("sweep_extend_monitoring")
def sweep_extend_monitoring(*, at: datetime | None = None) -> SweepResult:
    """Materialise monitoring up to today + 13 months for every running plan (idempotent)."""
    report = schedule.extend_monitoring(on=clinic_today(_now(at)))
    return SweepResult(created=report.created, updated=report.updated, cancelled=report.cancelled)


__all__ = [
    "CHUNK_SIZE",
    "DUE_SOON_ALERT_DAYS",
    "ITEM_KINDS",
    "ITEM_TYPE",
    "NO_EDSS_MONTHS",
    "SweepResult",
    "clinic_today",
    "due_soon_candidates",
    "edss_watch_list",
    "no_edss_key",
    "overdue_candidates",
    "sweep_breached_referrals",
    "sweep_due_soon",
    "sweep_extend_monitoring",
    "sweep_missing_edss",
    "sweep_overdue",
]
