"""The relapse triage line: a patient's call about new or worse symptoms, what the relapse
definition suggests (treatments.triage.rules), the outcome the nurse chose, its clock and what
was done (a relapse record, an urgent review, a relapse treatment)."""

from __future__ import annotations

from datetime import datetime

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic import limits
from clinic.dates import from_1900
from patients.models.scoping import PatientOwnedQuerySet


class TriageOutcome(models.TextChoices):
    # Values are treatments.triage.rules.Suggestion's (a test checks the two agree).
    PSEUDO_RELAPSE = "pseudo_relapse", "Pseudo-relapse: treat the trigger"
    POSSIBLE_RELAPSE = "possible_relapse", "Possible relapse: urgent review"
    RED_FLAGS = "red_flags", "Red flags: same-day review"


class Dipstick(models.TextChoices):
    NOT_DONE = "not_done", "Not done"
    NEGATIVE = "negative", "Negative"
    LEUCOCYTES = "leucocytes", "Leucocytes positive"
    NITRITES = "nitrites", "Nitrites positive"
    BOTH = "both", "Leucocytes and nitrites positive"

    @classmethod
    def is_positive(cls, value: str) -> bool:
        return value in (cls.LEUCOCYTES, cls.NITRITES, cls.BOTH)


class FunctionalImpact(models.TextChoices):
    NONE = "none", "None: daily life unchanged"
    MILD = "mild", "Mild: managing, with effort"
    MODERATE = "moderate", "Moderate: needs help with some activities or cannot work"
    SEVERE = "severe", "Severe: cannot manage daily life"


class TriageCallQuerySet(PatientOwnedQuerySet["TriageCall"]):
    def open(self) -> TriageCallQuerySet:
        return self.filter(closed_at__isnull=True)

    def breached(self, *, at: datetime) -> TriageCallQuerySet:
        """Open calls whose review clock ran out (treatments.triage.sweeps)."""
        return self.open().filter(due_at__lte=at)


@pghistory.track()
class TriageCall(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="triage_calls"
    )
    called_at = models.DateTimeField("Call taken at", default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # What the caller reports.
    onset_on = models.DateField("Symptoms began on")
    duration_hours = models.PositiveIntegerField("Symptoms have lasted (hours)")
    symptoms = models.TextField("New or worse symptoms", max_length=limits.NOTE)
    # FS keys of patients.models.clinical (FS_ORDER), as on a relapse record.
    systems = models.JSONField("Systems affected", default=list, blank=True)
    fever = models.BooleanField("Fever (38 °C or more)", default=False)
    temperature_c = models.DecimalField(
        "Temperature (°C)", max_digits=3, decimal_places=1, null=True, blank=True
    )
    infection_signs = models.BooleanField(
        "Infection signs (urinary, chest, skin, ...)", default=False
    )
    dipstick = models.CharField(
        "Urine dipstick", max_length=12, choices=Dipstick.choices, default=Dipstick.NOT_DONE
    )
    heat_trigger = models.BooleanField(
        "Heat as a trigger (hot weather, bath, exercise)", default=False
    )
    stress_trigger = models.BooleanField("Stress as a trigger", default=False)
    functional_impact = models.CharField(max_length=10, choices=FunctionalImpact.choices)
    red_flags = models.JSONField(default=list, blank=True)
    # What the relapse definition suggested when the call was logged, and why.
    suggestion = models.CharField(max_length=20, choices=TriageOutcome.choices)
    meets_definition = models.BooleanField(default=False)
    reasons = models.JSONField(default=list)
    catalogue_version = models.CharField(max_length=20)
    # What the nurse decided, and its clock (none for a pseudo-relapse).
    outcome = models.CharField(max_length=20, choices=TriageOutcome.choices)
    advice = models.TextField("Advice given", blank=True, max_length=limits.NOTE)
    due_at = models.DateTimeField("Review due by", null=True, blank=True)
    review_at = models.DateTimeField("Urgent review booked for", null=True, blank=True)
    relapse = models.ForeignKey(
        "patients.Relapse", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    treatment = models.ForeignKey(
        "treatments.SymptomaticTreatment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_note = models.TextField(blank=True, max_length=limits.NOTE)

    objects = TriageCallQuerySet.as_manager()

    class Meta:
        ordering = ["-called_at", "-id"]
        indexes = [
            # The worklist's open calls and the breach sweep (treatments.triage.sweeps).
            models.Index(
                fields=["due_at"], name="triage_open_due", condition=Q(closed_at__isnull=True)
            ),
        ]
        constraints = [
            *from_1900("triage_call", "onset_on"),
            models.CheckConstraint(
                name="triage_closed_has_time_and_person",
                condition=Q(closed_at__isnull=True)
                | (Q(closed_by__isnull=False) & ~Q(close_note="")),
            ),
            models.CheckConstraint(
                name="triage_pseudo_relapse_has_no_clock",
                condition=~Q(outcome="pseudo_relapse") | Q(due_at__isnull=True),
            ),
            models.CheckConstraint(
                name="triage_review_has_clock",
                condition=Q(outcome="pseudo_relapse") | Q(due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Triage call {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def heat_or_stress(self) -> bool:
        return self.heat_trigger or self.stress_trigger

    def minutes_left(self, at: datetime) -> int | None:
        """Minutes until the review is due (negative: past it); None without a clock."""
        if self.due_at is None:
            return None
        return int((self.due_at - at).total_seconds() // 60)

    def clock(self, at: datetime) -> str:
        """The clock in words: "5 h 20 min left", "overdue by 2 h 5 min", "" without one."""
        left = self.minutes_left(at)
        if left is None or not self.is_open:
            return ""
        hours, minutes = divmod(abs(left), 60)
        span = f"{hours} h {minutes} min" if hours else f"{minutes} min"
        return f"{span} left" if left >= 0 else f"overdue by {span}"

    def is_breached(self, at: datetime) -> bool:
        return self.is_open and self.due_at is not None and self.due_at <= at

    @property
    def review_booked_late(self) -> bool:
        return (
            self.review_at is not None and self.due_at is not None and self.review_at > self.due_at
        )
