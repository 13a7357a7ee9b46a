"""The supportive care plan: a patient's goals across the lifestyle and symptom areas the MS
literature names (NICE-NG220 and the reference's §8), each with an owner, a status and a
review date, and the reviews that move it on.

One open goal per area per patient (a database constraint): a second smoking goal while the
first is in progress is a mistake, not a plan. The readings an area needs live on its goal —
the vitamin D level and supplementation, the mood screening score — and are checked by the
pure rules in ``treatments.supportive.rules`` before they are stored.
"""

from __future__ import annotations

from datetime import date
from typing import Self

import pghistory
from django.db import models
from django.db.models import F, Q

from clinic import limits
from clinic.dates import from_1900
from patients.models.scoping import PatientOwnedQuerySet


class SupportiveArea(models.TextChoices):
    SMOKING = "smoking", "Smoking cessation"
    VITAMIN_D = "vitamin_d", "Vitamin D"
    EXERCISE = "exercise", "Exercise and physical activity"
    HEAT = "heat", "Heat sensitivity advice"
    DIET_WEIGHT = "diet_weight", "Diet and weight"
    BLADDER_BOWEL = "bladder_bowel", "Bladder and bowel"
    FATIGUE = "fatigue", "Fatigue"
    MOOD = "mood", "Mood and psychological support"
    COGNITION = "cognition", "Cognition"


class GoalStatus(models.TextChoices):
    ACTIVE = "active", "In progress"
    ACHIEVED = "achieved", "Achieved"
    STOPPED = "stopped", "Stopped"


class ScreeningTool(models.TextChoices):
    PHQ9 = "phq9", "PHQ-9"
    HADS_ANXIETY = "hads_a", "HADS anxiety"
    HADS_DEPRESSION = "hads_d", "HADS depression"


class SupportiveGoalQuerySet(PatientOwnedQuerySet["SupportiveGoal"]):
    def active(self) -> Self:
        return self.filter(status=GoalStatus.ACTIVE)

    def review_overdue(self, *, on: date) -> Self:
        """In progress with the review date passed: the same rule as
        :meth:`SupportiveGoal.is_review_overdue`, for lists."""
        return self.active().filter(review_on__lt=on)


@pghistory.track()
class SupportiveGoal(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="supportive_goals"
    )
    area = models.CharField(max_length=20, choices=SupportiveArea.choices)
    goal = models.CharField(max_length=300, help_text="What the patient and the team aim for.")
    owner = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="supportive_goals",
        help_text="The clinician of the care team who follows this goal.",
    )
    status = models.CharField(max_length=10, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    started_on = models.DateField("Set on")
    review_on = models.DateField("Review by")
    closed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    # Vitamin D (area vitamin_d): the last level known to the plan, in nmol/L, and what the
    # patient takes. A result in the lab catalogue, when it has one, is shown beside it.
    vitamin_d_level = models.DecimalField(
        "25-OH vitamin D (nmol/L)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    vitamin_d_measured_on = models.DateField("Level measured on", null=True, blank=True)
    supplementation = models.CharField(max_length=120, blank=True)
    # Mood (area mood): the latest screening score entered with the goal or a review.
    screening_tool = models.CharField(max_length=10, choices=ScreeningTool.choices, blank=True)
    screening_score = models.PositiveSmallIntegerField(null=True, blank=True)
    screened_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SupportiveGoalQuerySet.as_manager()

    class Meta:
        ordering = ["review_on", "id"]
        indexes = [
            # The overdue-reviews list: goals in progress by review date.
            models.Index(
                fields=["review_on"],
                condition=Q(status="active"),
                name="supportive_goal_review_due",
            ),
            models.Index(fields=["patient", "area"], name="supportive_goal_patient"),
        ]
        constraints = [
            *from_1900(
                "supportive_goal", "started_on", "review_on", "vitamin_d_measured_on", "screened_on"
            ),
            models.UniqueConstraint(
                fields=["patient", "area"],
                condition=Q(status="active"),
                name="supportive_goal_one_open_per_area",
                violation_error_message="This patient already has a goal in progress here.",
            ),
            models.CheckConstraint(
                name="supportive_goal_known_area",
                condition=Q(area__in=SupportiveArea.values),
            ),
            models.CheckConstraint(
                name="supportive_goal_review_after_start",
                condition=Q(review_on__gte=F("started_on")),
            ),
            models.CheckConstraint(
                name="supportive_goal_closed_when_done",
                condition=Q(status="active", closed_on__isnull=True)
                | (~Q(status="active") & Q(closed_on__isnull=False)),
            ),
            models.CheckConstraint(
                name="supportive_goal_vitamin_d_only_for_vitamin_d",
                condition=Q(area="vitamin_d")
                | Q(vitamin_d_level__isnull=True, vitamin_d_measured_on__isnull=True),
            ),
            models.CheckConstraint(
                name="supportive_goal_vitamin_d_not_negative",
                condition=Q(vitamin_d_level__isnull=True) | Q(vitamin_d_level__gte=0),
            ),
            models.CheckConstraint(
                name="supportive_goal_screening_only_for_mood",
                condition=Q(area="mood")
                | Q(screening_tool="", screening_score__isnull=True, screened_on__isnull=True),
            ),
            models.CheckConstraint(
                name="supportive_goal_screening_complete",
                condition=Q(screening_tool="", screening_score__isnull=True)
                | (~Q(screening_tool="") & Q(screening_score__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"Supportive goal {self.pk} ({self.area})"

    @property
    def is_active(self) -> bool:
        return self.status == GoalStatus.ACTIVE

    def is_review_overdue(self, *, on: date) -> bool:
        return self.is_active and self.review_on < on

    def days_overdue(self, *, on: date) -> int:
        return (on - self.review_on).days if self.is_review_overdue(on=on) else 0


@pghistory.track()
class SupportiveReview(models.Model):
    """One review of a goal: what was found, the status it leaves the goal in, and when it is
    next reviewed (for a goal still in progress)."""

    goal = models.ForeignKey(SupportiveGoal, on_delete=models.CASCADE, related_name="reviews")
    # The goal's patient, on the row so that reviews are scoped like any patient-owned row.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    reviewed_on = models.DateField()
    status = models.CharField(max_length=10, choices=GoalStatus.choices)
    note = models.TextField(blank=True, max_length=limits.NOTE)
    next_review_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = PatientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["reviewed_on", "id"]
        constraints = [
            *from_1900("supportive_review", "reviewed_on", "next_review_on"),
            models.CheckConstraint(
                name="supportive_review_next_after_review",
                condition=Q(next_review_on__isnull=True) | Q(next_review_on__gt=F("reviewed_on")),
            ),
            models.CheckConstraint(
                name="supportive_review_next_only_when_active",
                condition=Q(status="active", next_review_on__isnull=False)
                | (~Q(status="active") & Q(next_review_on__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"Supportive review {self.pk}"
