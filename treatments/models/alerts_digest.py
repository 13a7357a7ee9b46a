"""The daily digest: what each clinician was sent (kept, so they can read it in the app), and
how they want it (the hour, and which non-critical kinds of alert it counts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DigestLog(models.Model):
    """One row per clinician per day: claimed before the daily digest is sent, then filled with
    the message that went out (the notifications page shows it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)
    # What was sent: no patient name or identifier, as in every email (counts by kind, a link).
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    alert_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "on"], name="one_digest_per_user_per_day")
        ]
        indexes = [models.Index(fields=["user", "-on"], name="digest_user_recent")]

    def __str__(self) -> str:
        return f"Digest {self.user_id} {self.on}"


class NotificationPreference(models.Model):
    """A clinician's digest settings; without a row, the clinic's defaults apply (the hour
    `ALERT_DIGEST_HOUR`, every kind). Critical alerts are always counted and always emailed at
    once: only non-critical kinds can be left out."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    digest_hour = models.PositiveSmallIntegerField()
    # Kinds left out (rather than kinds kept): a kind added later is counted until someone
    # chooses otherwise.
    # A JSON list of AlertKind values.
    digest_excluded_kinds = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="digest_hour_of_day", condition=Q(digest_hour__gte=0, digest_hour__lte=23)
            )
        ]

    def __str__(self) -> str:
        return f"Notification preference {self.user_id}"
