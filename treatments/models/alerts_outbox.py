"""The outbox of alert emails: one row per email to send, with its state.

An email is recorded here in the same transaction that decides it is due (the critical alert
is marked told, the escalation is claimed), so deciding and remembering cannot come apart. The
sender (treatments.alerts.outbox) claims rows, sends, then confirms; a claim never confirmed
(the worker died between the two) is claimed again after `ALERT_EMAIL_RETRY_MINUTES`. That is
at-least-once: for a critical alert a rare second email is better than none.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EmailPurpose(models.TextChoices):
    CRITICAL = "critical", "Critical alert, to its owner"
    ESCALATION = "escalation", "Escalation, to the team's lead neurologist"


class EmailState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"  # new, or after a failed attempt
    CLAIMED = "claimed", "Being sent"  # since claimed_at
    SENT = "sent", "Sent"
    FAILED = "failed", "Given up after repeated failures"
    CANCELLED = "cancelled", "Not needed: the alert was handled before it went out"


class AlertEmail(models.Model):
    alert = models.ForeignKey("treatments.Alert", on_delete=models.CASCADE, related_name="emails")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    purpose = models.CharField(max_length=12, choices=EmailPurpose.choices)
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # A pending row is sent from this moment on (later after each failed attempt).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The kind of the last failure (an exception class name), never the message: it can carry
    # addresses.
    last_error = models.CharField(max_length=100, blank=True)
    # The message as it went out (filled when sent), for the recipient's notifications page.
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recipient", "purpose"], name="one_email_per_alert_recipient"
            ),
            models.CheckConstraint(
                name="alert_email_claimed_has_time",
                condition=~Q(state="claimed") | Q(claimed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="alert_email_sent_has_time",
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
            ),
        ]
        indexes = [
            # A user's notifications page: the emails sent to them, newest first.
            models.Index(fields=["recipient", "-created_at"], name="alert_email_recipient"),
            # The sender's claim (treatments.alerts.outbox.claim): due pending rows, and claims
            # that were never confirmed.
            models.Index(
                fields=["next_attempt_at"],
                name="alert_email_pending",
                condition=Q(state="pending"),
            ),
            models.Index(
                fields=["claimed_at"], name="alert_email_claimed", condition=Q(state="claimed")
            ),
        ]

    def __str__(self) -> str:
        return f"Alert email {self.pk} {self.purpose} {self.state}"
