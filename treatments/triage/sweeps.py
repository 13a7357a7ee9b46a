"""The triage clock's sweep: an open call past its review target raises one alert, never two.

Level-triggered like every sweep (treatments.monitoring.sweeps): it recomputes which open calls
are past `due_at` and makes the alerts match. The condition key `triage_overdue:call:<id>` is
unique, so a repeated or concurrent run creates nothing new; a call closed since resolves its
alert. A call once closed never reopens, so an alert resolved (by a person or automatically)
is never raised again.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pghistory
from django.db.models import BigIntegerField, CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from treatments.alerts import services as alerts
from treatments.alerts.services import AlertSpec
from treatments.models import (
    ACTIVE_STATUSES,
    Alert,
    AlertGrade,
    AlertKind,
    TriageCall,
    TriageOutcome,
)
from treatments.triage.services import CALL_TYPE

logger = logging.getLogger("myelin.sweeps")

KEY_PREFIX = "triage_overdue:call:"


def breach_spec(call: TriageCall) -> AlertSpec:
    assert call.due_at is not None  # only calls with a clock are breached
    due = timezone.localtime(call.due_at, timezone.get_default_timezone())
    red = call.outcome == TriageOutcome.RED_FLAGS
    taker = call.taken_by
    return AlertSpec(
        patient_id=call.patient_id,
        kind=AlertKind.TRIAGE_OVERDUE,
        # Red flags are a same-day review: past it is critical (and goes to the neurologist).
        grade=AlertGrade.CRITICAL if red else AlertGrade.WARNING,
        condition_key=f"{KEY_PREFIX}{call.pk}",
        title=(
            f"Relapse triage call ({call.get_outcome_display().split(':')[0].lower()}) not "
            f"closed by its target ({due:%d %b %Y %H:%M})"
        ),
        detail=f"Call taken {timezone.localtime(call.called_at):%d %b %Y %H:%M}.",
        action="See the patient (urgent review), or close the call saying what happened.",
        source="Clinic relapse review target (clinic settings); red flags: same day",
        raised_by_type=CALL_TYPE,
        raised_by_id=str(call.pk),
        owner_id=taker.pk if taker.is_active and not red else None,
    )


def sweep_triage_breaches(*, at: datetime | None = None) -> dict[str, int]:
    """Raise `triage_overdue` for each open call past its clock; resolve those of closed calls.
    Returns what it did (a repeated run: zeros)."""
    at = at or timezone.now()
    with pghistory.context(job="sweep_triage_breaches"):
        # Calls that already have their alert (in any state) need nothing: the unique key
        # would refuse a second one anyway; this only saves building it.
        key = Concat(Value(KEY_PREFIX), Cast(OuterRef("pk"), CharField()), output_field=CharField())
        calls = (
            TriageCall.objects.breached(at=at)
            .exclude(Exists(Alert.objects.filter(condition_key=key)))
            .select_related("taken_by")
        )
        specs = []
        failed = 0
        for call in calls:
            try:
                specs.append(breach_spec(call))
            except (LookupError, ValueError, TypeError):
                failed += 1
                logger.exception("Triage sweep skipped call %s; retried next run", call.pk)
        created = alerts.raise_alerts(specs, at=at)
        closed = TriageCall.objects.filter(
            pk=Cast(OuterRef("raised_by_id"), BigIntegerField()), closed_at__isnull=False
        )
        resolved = alerts.auto_resolve(
            queryset=Alert.objects.filter(
                kind=AlertKind.TRIAGE_OVERDUE,
                raised_by_type=CALL_TYPE,
                status__in=ACTIVE_STATUSES,
            ).filter(Exists(closed)),
            note="Closed automatically: the triage call was closed.",
            at=at,
        )
    return {"created": created, "resolved": resolved, "failed": failed}
