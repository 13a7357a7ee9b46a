"""Natalizumab PML risk: the inputs a clinician records on the plan, and the category history.

The category itself is computed by `treatments.safety.pml.assess_pml_risk` (pure); these rows keep the
inputs that are not results (prior immunosuppressant use, extended-interval dosing), the current
category with its MRI interval, and every change of category with its date and reason.
"""

from __future__ import annotations

import pghistory
from django.db import models


class PriorImmunosuppressant(models.TextChoices):
    UNKNOWN = "unknown", "Not recorded"
    NO = "no", "No"
    YES = "yes", "Yes"

    def as_bool(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.value)


class PmlGrade(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


@pghistory.track()
class PmlProfile(models.Model):
    """One per natalizumab plan: the non-result inputs and the current category."""

    plan = models.OneToOneField(
        "treatments.DmtPlan", on_delete=models.PROTECT, related_name="pml_profile"
    )
    prior_immunosuppressant = models.CharField(
        max_length=8,
        choices=PriorImmunosuppressant.choices,
        default=PriorImmunosuppressant.UNKNOWN,
        help_text=(
            "Before natalizumab: mitoxantrone, azathioprine, methotrexate, cyclophosphamide or "
            "mycophenolate (not interferon, glatiramer or steroids)."
        ),
    )
    extended_interval_dosing = models.BooleanField(default=False)
    category = models.CharField(max_length=30, blank=True)
    label = models.CharField(max_length=200, blank=True)
    grade = models.CharField(max_length=10, choices=PmlGrade.choices, blank=True)
    mri_interval_months = models.PositiveSmallIntegerField(null=True, blank=True)
    jcv_retest_months = models.PositiveSmallIntegerField(null=True, blank=True)
    schedule_condition = models.CharField(
        max_length=30,
        blank=True,
        help_text="The protocol condition that sets the surveillance MRI the worklist schedules "
        "(treatments.safety.pml.schedule_condition); empty while JCV is not known positive.",
    )
    schedule_condition_since = models.DateField(
        null=True,
        blank=True,
        help_text="The day the risk engine set the current surveillance; its MRIs whose window "
        "had closed by then are not scheduled (nobody could have known they were due).",
    )
    estimated_risk_per_1000 = models.CharField(max_length=40, blank=True)
    exposure_months = models.PositiveSmallIntegerField(null=True, blank=True)
    index_used = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    explanation = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True)
    assessed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"PML profile of plan {self.plan_id} ({self.category or 'not assessed'})"

    @property
    def prior_is(self) -> bool | None:
        return PriorImmunosuppressant(self.prior_immunosuppressant).as_bool()


class PmlCategoryChange(models.Model):
    """A category the plan entered, on a date, and why (append-only history)."""

    plan = models.ForeignKey(
        "treatments.DmtPlan", on_delete=models.PROTECT, related_name="pml_changes"
    )
    category = models.CharField(max_length=30)
    previous_category = models.CharField(max_length=30, blank=True)
    label = models.CharField(max_length=200)
    grade = models.CharField(max_length=10, choices=PmlGrade.choices)
    mri_interval_months = models.PositiveSmallIntegerField(null=True, blank=True)
    changed_on = models.DateField()
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        indexes = [models.Index(fields=["plan", "-changed_on"], name="pml_change_plan_on")]

    def __str__(self) -> str:
        return f"PML category {self.category} on plan {self.plan_id}"
