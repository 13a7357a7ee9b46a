"""Sending alert emails from the outbox (treatments.models.AlertEmail).

Claim, send, confirm:

1. `claim` takes due rows under `SELECT ... FOR UPDATE SKIP LOCKED` and marks them claimed
   (with the moment and one more attempt) in a transaction of its own, so concurrent senders
   never take the same row and a claim is visible before anything is sent.
2. Each row is sent outside any transaction (a slow mail server holds no lock).
3. The row is confirmed sent; a failed send puts it back to pending with a growing pause, and
   after `MAX_ATTEMPTS` it is given up (logged as an error; an unacknowledged critical alert is
   still escalated).

Deliberately at-least-once: a worker killed after sending and before confirming leaves a claim
that is taken again after `ALERT_EMAIL_RETRY_MINUTES`, so that email goes out a second time.
The other choice, at-most-once, would lose it instead; for a critical alert a rare duplicate is
better than a loss. A sender that is merely slow does not cause this: the mail connection times
out after seconds, the retry waits minutes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from treatments.models import AlertEmail, AlertStatus, EmailPurpose, EmailState

logger = logging.getLogger("myelin.alerts")

MAX_ATTEMPTS = 8
# Pause before attempt n+1 after n failed ones: 1, 2, 4 ... minutes, at most an hour (about two
# hours of trying in all).
MAX_PAUSE = timedelta(hours=1)
CLAIM_BATCH = 100


def retry_after() -> timedelta:
    """How long a claim may stay unconfirmed before another sender takes it."""
    return timedelta(minutes=settings.ALERT_EMAIL_RETRY_MINUTES)


def queue(*, alert_id: int, recipient_id: int, purpose: EmailPurpose, at: datetime) -> None:
    """Record an email to send (call it in the transaction that decides it is due). A second
    call for the same alert, recipient and purpose records nothing: the constraint decides."""
    AlertEmail.objects.bulk_create(
        [
            AlertEmail(
                alert_id=alert_id,
                recipient_id=recipient_id,
                purpose=purpose,
                created_at=at,
                next_attempt_at=at,
            )
        ],
        ignore_conflicts=True,
    )


def claim(*, at: datetime, limit: int = CLAIM_BATCH) -> list[AlertEmail]:
    """Take the rows due at `at`: pending ones whose time has come, and claims older than
    `retry_after()` that nobody confirmed (their sender died)."""
    due = Q(state=EmailState.PENDING, next_attempt_at__lte=at) | Q(
        state=EmailState.CLAIMED, claimed_at__lt=at - retry_after()
    )
    with transaction.atomic():
        rows = list(
            AlertEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alert", "recipient")
            .filter(due)
            .order_by("next_attempt_at", "pk")[:limit]
        )
        AlertEmail.objects.filter(pk__in=[row.pk for row in rows]).update(
            state=EmailState.CLAIMED, claimed_at=at, attempts=F("attempts") + 1
        )
    for row in rows:
        row.state, row.claimed_at, row.attempts = EmailState.CLAIMED, at, row.attempts + 1
    return rows


def deliver(*, at: datetime | None = None) -> int:
    """Send every email due: claim, send, confirm. Returns how many were sent."""
    at = at or timezone.now()
    sent = 0
    for row in claim(at=at):
        sent += _deliver_one(row, at=at)
    return sent


def _deliver_one(row: AlertEmail, *, at: datetime) -> int:
    mine = AlertEmail.objects.filter(pk=row.pk, state=EmailState.CLAIMED, claimed_at=at)
    alert = row.alert
    if alert.status != AlertStatus.OPEN:
        # Acknowledged, snoozed or resolved while the email waited: it would only be noise.
        mine.update(state=EmailState.CANCELLED)
        return 0
    address = row.recipient.email
    try:
        if not address:
            raise ValueError("recipient has no email address")
        subject, body = _message(row)
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[address])
    except Exception as error:  # one row's failure never stops the others
        gave_up = row.attempts >= MAX_ATTEMPTS
        log = logger.error if gave_up else logger.warning
        log(
            "Alert email %s (alert %s, %s) failed on attempt %s%s",
            row.pk,
            alert.pk,
            row.purpose,
            row.attempts,
            "; given up" if gave_up else "; it will be retried",
        )
        pause = min(timedelta(minutes=2 ** (row.attempts - 1)), MAX_PAUSE)
        mine.update(
            state=EmailState.FAILED if gave_up else EmailState.PENDING,
            next_attempt_at=at + pause,
            last_error=type(error).__name__[:100],
        )
        return 0
    # Kept as sent, for the recipient's notifications page.
    mine.update(
        state=EmailState.SENT, sent_at=timezone.now(), last_error="", subject=subject, body=body
    )
    return 1


def _alert_url(alert_id: int) -> str:
    return site_url(f"{reverse('alerts:inbox')}?alert={alert_id}")


def site_url(path: str) -> str:
    """An address on this site for an email: the public URL the clinic reaches Myelin at
    (`MYELIN_SITE_URL`), never the port a development server happens to listen on."""
    return f"{settings.MYELIN_SITE_URL}{path}"


def _message(row: AlertEmail) -> tuple[str, str]:
    """No patient name or identifier in email: the link opens the alert behind sign-in."""
    alert = row.alert
    kind = alert.get_kind_display()
    link = f"Open it: {_alert_url(alert.pk)}\n"
    if row.purpose == EmailPurpose.ESCALATION:
        return (
            "Myelin: unacknowledged critical alert escalated to you",
            f"A critical alert has not been acknowledged for "
            f"{settings.ALERT_ESCALATION_MINUTES} minutes and is escalated to you as the "
            f"team's lead neurologist.\n\n{kind}: {alert.title}\n\n{link}",
        )
    return (
        f"Myelin: critical alert — {kind}",
        f"A critical alert was raised in Myelin and is assigned to you.\n\n"
        f"{kind}: {alert.title}\n\n{link}",
    )
