"""Alerts: recorded first, told second, never doubled.

An alert is identified by its *condition key* (for example ``overdue:item:42`` or
``abnormal:result:7:rule:alt_gt_3x_uln``). A unique constraint on that key makes a second alert
for the same condition impossible, whatever runs twice or concurrently: sweeps create alerts
with ``bulk_create(ignore_conflicts=True)`` and the database decides. Conditions that can recur
carry their epoch in the key (``no_edss:patient:5:since:2025-03-01``), so a new episode is a new
alert while a repeat of the same episode is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.links import link
from patients.models.scoping import PatientOwnedQuerySet

if TYPE_CHECKING:
    from clinic.accounts.models import User


class AlertKind(models.TextChoices):
    OVERDUE_MONITORING = "overdue_monitoring", "Overdue monitoring"
    DUE_SOON = "due_soon", "Monitoring due soon"
    ABNORMAL_RESULT = "abnormal_result", "Abnormal result"
    DOSE_GATE = "dose_gate", "Dose gate not met"
    SIDE_EFFECT = "side_effect", "Side-effect report"
    PML_RISK = "pml_risk", "PML risk change"
    REFERRAL_OVERDUE = "referral_overdue", "Referral past its deadline"
    DISABILITY_PROGRESSION = "disability_progression", "Disability progression"
    NO_EDSS = "no_edss", "No EDSS for 12 months"
    PHQ9_SELF_HARM = "phq9_self_harm", "PHQ-9: thoughts of self-harm"
    TRIAGE_OVERDUE = "triage_overdue", "Relapse triage review past its target"


class AlertFamily(models.TextChoices):
    """Who may acknowledge, snooze and resolve an alert depends on its family (the permission
    table, clinic.permissions: ALERT_SAFETY_* and ALERT_REFERRAL_*)."""

    SAFETY = "safety", "Safety"
    REFERRAL = "referral", "Referral"


# Every kind is in exactly one family; a new kind must be placed here (a test checks). Safety:
# everything about the drug's safety and the disease, which only nurses and neurologists close.
# Referral: the referral workflow, which the referrer (a therapist too) chases.
FAMILY_OF_KIND: dict[str, str] = {
    AlertKind.OVERDUE_MONITORING: AlertFamily.SAFETY,
    AlertKind.DUE_SOON: AlertFamily.SAFETY,
    AlertKind.ABNORMAL_RESULT: AlertFamily.SAFETY,
    AlertKind.DOSE_GATE: AlertFamily.SAFETY,
    AlertKind.SIDE_EFFECT: AlertFamily.SAFETY,
    AlertKind.PML_RISK: AlertFamily.SAFETY,
    AlertKind.DISABILITY_PROGRESSION: AlertFamily.SAFETY,
    AlertKind.NO_EDSS: AlertFamily.SAFETY,
    AlertKind.PHQ9_SELF_HARM: AlertFamily.SAFETY,
    AlertKind.TRIAGE_OVERDUE: AlertFamily.SAFETY,
    AlertKind.REFERRAL_OVERDUE: AlertFamily.REFERRAL,
}


class AlertGrade(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


GRADE_RANK = {AlertGrade.INFO: 0, AlertGrade.WARNING: 1, AlertGrade.CRITICAL: 2}


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)
# Labels by value, for the inbox rows: get_FOO_display() rebuilds its mapping on every call.
_LABELS = {
    "kind": dict(AlertKind.choices),
    "grade": dict(AlertGrade.choices),
    "status": dict(AlertStatus.choices),
}


class AlertQuerySet(PatientOwnedQuerySet["Alert"]):
    def active(self) -> AlertQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def needing_attention(self, *, at: datetime | None = None) -> AlertQuerySet:
        """Open alerts, plus snoozed ones whose snooze has run out (shown again, never lost)."""
        at = at or timezone.now()
        return self.filter(
            Q(status=AlertStatus.OPEN) | Q(status=AlertStatus.SNOOZED, snoozed_until__lte=at)
        )

    def owned_by(self, user: User) -> AlertQuerySet:
        return self.filter(owner=user)


@pghistory.track()
class Alert(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    grade = models.CharField(max_length=10, choices=AlertGrade.choices)
    ctcae_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    condition_key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    action = models.CharField(
        max_length=300, blank=True, help_text="What the catalogue says to do."
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where the rule comes from.")
    # What raised it: the object's type and id (e.g. "treatments.monitoringitem", "42").
    raised_by_type = models.CharField(max_length=60, blank=True)
    raised_by_id = models.CharField(max_length=40, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    status = models.CharField(max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    resolved_automatically = models.BooleanField(default=False)
    # Notification bookkeeping: claimed with a compare-and-swap update before sending.
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox and the nav-bar count: a user's active alerts, newest first.
            models.Index(
                fields=["owner", "-created_at"],
                name="alert_owner_active",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            # Auto-resolution and the patient page look alerts up by what raised them.
            models.Index(fields=["raised_by_type", "raised_by_id"], name="alert_raised_by"),
            models.Index(fields=["patient", "status"], name="alert_patient_status"),
            # The quality dashboard's time to acknowledgement: one kind's alerts raised in a
            # period (treatments.quality.services.acknowledgement_time).
            models.Index(fields=["kind", "created_at"], name="alert_kind_created"),
            # The critical-email sender and the escalation sweep scan unsent / unescalated criticals.
            models.Index(
                fields=["created_at"],
                name="alert_critical_unhandled",
                condition=Q(grade="critical", status="open"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="alert_snooze_has_reason_and_end",
                condition=~Q(status="snoozed")
                | (Q(snoozed_until__isnull=False) & ~Q(snooze_reason="")),
            ),
            models.CheckConstraint(
                name="alert_resolved_has_time",
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
            ),
            models.CheckConstraint(
                name="alert_ctcae_grade_range",
                condition=Q(ctcae_grade__isnull=True) | Q(ctcae_grade__gte=1, ctcae_grade__lte=5),
            ),
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk} {self.kind} {self.grade}"

    @property
    def labels(self) -> dict[str, str]:
        """Kind, grade and status as shown, and when it was raised (clinic time)."""
        return {
            "kind": _LABELS["kind"].get(self.kind, self.kind),
            "grade": _LABELS["grade"].get(self.grade, self.grade),
            "status": _LABELS["status"].get(self.status, self.status),
            "raised": timezone.localtime(self.created_at).strftime("%d %b %Y %H:%M"),
        }

    # The inbox row's actions (see clinic.links: a page of rows reverses no URL per row).
    @property
    def acknowledge_url(self) -> str:
        return link("alerts:acknowledge", self.pk)

    @property
    def snooze_url(self) -> str:
        return link("alerts:snooze", self.pk)

    @property
    def resolve_url(self) -> str:
        return link("alerts:resolve", self.pk)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def family(self) -> str:
        # An unknown kind (a row older than its kind's removal) is treated as the stricter one.
        return FAMILY_OF_KIND.get(self.kind, AlertFamily.SAFETY)

    def needs_attention_at(self, at: datetime) -> bool:
        if self.status == AlertStatus.OPEN:
            return True
        return (
            self.status == AlertStatus.SNOOZED
            and self.snoozed_until is not None
            and self.snoozed_until <= at
        )

    def escalation_due_at(self, delay: timedelta) -> datetime | None:
        """An unacknowledged critical alert escalates `delay` after it was raised."""
        if (
            self.grade != AlertGrade.CRITICAL
            or self.status != AlertStatus.OPEN
            or self.escalated_at
        ):
            return None
        return self.created_at + delay
