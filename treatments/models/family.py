"""Family planning and pregnancy: a planned conception, teriflunomide's elimination levels, and
pregnancies with their end (delivery or loss) as dated events. The rules that turn them into
steps are pure (treatments.protocols.family); the workflows are treatments.family.services."""

from __future__ import annotations

from datetime import date

import pghistory
from django.db import models
from django.db.models import F, Q

from clinic import limits
from clinic.dates import from_1900
from patients.models.scoping import PatientOwnedQuerySet


@pghistory.track()
class FamilyPlan(models.Model):
    """A patient's intended conception date, planned against the DMT they are on."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="family_plans"
    )
    intended_conception_on = models.DateField("Intended conception date")
    breastfeeding_intended = models.BooleanField("Intends to breast-feed", default=True)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    # The DMT the plan was made against (its key), kept for the record; the planner reads the
    # current plan live.
    drug_key = models.CharField(max_length=40, blank=True)
    closed_on = models.DateField(
        null=True, blank=True, help_text="Replaced by a later plan, or a pregnancy recorded."
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField(default=date.today)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            *from_1900("family_plan", "intended_conception_on", "closed_on"),
            # One open plan per patient: a new date replaces the old plan.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(closed_on__isnull=True),
                name="one_open_family_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Family plan {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class EliminationLevel(models.Model):
    """A plasma teriflunomide level taken to confirm accelerated elimination (§6)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    family_plan = models.ForeignKey(FamilyPlan, on_delete=models.PROTECT, related_name="levels")
    taken_on = models.DateField()
    value_mg_l = models.DecimalField("Level (mg/L)", max_digits=6, decimal_places=3)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = PatientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["taken_on", "id"]
        constraints = [
            *from_1900("elimination_level", "taken_on"),
            models.CheckConstraint(
                name="elimination_level_not_negative", condition=Q(value_mg_l__gte=0)
            ),
            models.UniqueConstraint(
                fields=["family_plan", "taken_on"], name="one_elimination_level_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"Elimination level {self.pk}"


class PregnancyOutcome(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    DELIVERED = "delivered", "Delivered"
    LOSS = "loss", "Pregnancy loss"


@pghistory.track()
class Pregnancy(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="pregnancies"
    )
    conceived_on = models.DateField("Conception date (estimated)")
    expected_delivery_on = models.DateField()
    outcome = models.CharField(
        max_length=10, choices=PregnancyOutcome.choices, default=PregnancyOutcome.ONGOING
    )
    ended_on = models.DateField("Delivery or end date", null=True, blank=True)
    breastfeeding = models.BooleanField("Breast-feeding", default=False)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-conceived_on", "-id"]
        verbose_name_plural = "pregnancies"
        constraints = [
            *from_1900("pregnancy", "conceived_on", "ended_on"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(outcome="ongoing"),
                name="one_ongoing_pregnancy",
                violation_error_message="This patient already has an ongoing pregnancy.",
            ),
            models.CheckConstraint(
                name="pregnancy_ends_after_conception",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("conceived_on")),
                violation_error_message="The pregnancy cannot end before the conception date.",
            ),
            models.CheckConstraint(
                name="pregnancy_end_date_with_outcome",
                condition=(Q(outcome="ongoing") & Q(ended_on__isnull=True))
                | (~Q(outcome="ongoing") & Q(ended_on__isnull=False)),
            ),
            models.CheckConstraint(
                name="pregnancy_expected_after_conception",
                condition=Q(expected_delivery_on__gt=F("conceived_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"Pregnancy {self.pk}"

    @property
    def is_ongoing(self) -> bool:
        return self.outcome == PregnancyOutcome.ONGOING

    def weeks_on(self, day: date) -> int:
        """Completed weeks of pregnancy by the conception date (+2 for gestational age)."""
        return max(0, (day - self.conceived_on).days // 7) + 2
