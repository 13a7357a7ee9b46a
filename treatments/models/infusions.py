"""The infusion day: one checklist per infusion of an intravenous DMT (questions, pre-medication,
gates, vital signs, observation, reaction), and the infusion it let through
(treatments.infusions)."""

from __future__ import annotations

from datetime import date

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic import limits
from clinic.dates import from_1900
from patients.models.scoping import PatientOwnedQuerySet


class InfusionState(models.TextChoices):
    OPEN = "open", "Checklist open"
    RECORDED = "recorded", "Infusion recorded"
    CANCELLED = "cancelled", "Cancelled"


class InfusionVisitQuerySet(PatientOwnedQuerySet["InfusionVisit"]):
    def on(self, day: date) -> InfusionVisitQuerySet:
        return self.filter(infusion_on=day)


@pghistory.track()
class InfusionVisit(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="infusion_visits"
    )
    plan = models.ForeignKey(
        "treatments.DmtPlan", on_delete=models.PROTECT, related_name="infusion_visits"
    )
    infusion_on = models.DateField("Infusion day")
    # Drugs given in courses (alemtuzumab): which day of the course; day 1 starts a course.
    course_day = models.PositiveSmallIntegerField(null=True, blank=True)
    # Answers, by the catalogue's keys (treatments.protocols.infusion_day): "yes" / "no",
    # "given" / "not_given"; a key missing is a question not answered yet.
    answers = models.JSONField(default=dict, blank=True)
    premedication = models.JSONField(default=dict, blank=True)
    vitals_before = models.JSONField(default=dict, blank=True)
    vitals_after = models.JSONField(default=dict, blank=True)
    observed_minutes = models.PositiveIntegerField(
        "Observed after (minutes)", null=True, blank=True
    )
    reaction_grade = models.PositiveSmallIntegerField("Infusion reaction", null=True, blank=True)
    reaction_note = models.TextField(blank=True, max_length=limits.NOTE)
    state = models.CharField(
        max_length=10, choices=InfusionState.choices, default=InfusionState.OPEN
    )
    administration = models.OneToOneField(
        "treatments.DmtAdministration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="infusion_visit",
    )
    # A neurologist's reason to record the infusion with the checklist incomplete, and what was
    # missing (the items, in words) when they did.
    override_reason = models.TextField(blank=True, max_length=limits.REASON)
    override_missing = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    objects = InfusionVisitQuerySet.as_manager()

    class Meta:
        ordering = ["infusion_on", "id"]
        indexes = [
            # The day view: the day's infusions (treatments.infusions.views.day).
            models.Index(fields=["infusion_on"], name="infusion_visit_day"),
        ]
        constraints = [
            *from_1900("infusion_visit", "infusion_on"),
            models.UniqueConstraint(
                fields=["plan", "infusion_on"],
                condition=~Q(state="cancelled"),
                name="one_infusion_visit_per_plan_day",
                violation_error_message="This plan already has an infusion on that day.",
            ),
            models.CheckConstraint(
                name="infusion_reaction_grade_range",
                condition=Q(reaction_grade__isnull=True) | Q(reaction_grade__lte=5),
            ),
            models.CheckConstraint(
                name="infusion_recorded_has_administration",
                condition=~Q(state="recorded")
                | (Q(administration__isnull=False) & Q(recorded_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="infusion_course_day_range",
                condition=Q(course_day__isnull=True) | Q(course_day__gte=1, course_day__lte=5),
            ),
        ]

    def __str__(self) -> str:
        return f"Infusion visit {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == InfusionState.OPEN
