"""Side-effect reports: what a patient experienced on a drug, how bad, and what was done."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q

from clinic import limits
from clinic.dates import from_1900
from patients.models.corrections import (
    Correctable,
    PatientCorrectableQuerySet,
    correction_constraints,
)


class SideEffectAction(models.TextChoices):
    NONE = "none", "None"
    DOSE_INTERRUPTED = "dose_interrupted", "Dose interrupted"
    DRUG_STOPPED = "drug_stopped", "Drug stopped"
    TREATED = "treated", "Treated"
    HOSPITALISED = "hospitalised", "Hospitalised"
    OTHER = "other", "Other"


# CTCAE v5 grades: 1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death.
CTCAE_GRADE_CHOICES = [
    (1, "1 — Mild"),
    (2, "2 — Moderate"),
    (3, "3 — Severe or medically significant"),
    (4, "4 — Life-threatening"),
    (5, "5 — Death related to the adverse event"),
]


class SideEffectReportQuerySet(PatientCorrectableQuerySet["SideEffectReport"]):
    """Scoped like every patient-owned row; `standing()` leaves corrected reports out."""


@pghistory.track()
class SideEffectReport(Correctable):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="side_effect_reports"
    )
    plan = models.ForeignKey(
        "treatments.DmtPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="side_effect_reports",
    )
    drug_name = models.CharField(max_length=120, blank=True)
    effect = models.CharField(
        max_length=200, blank=True, help_text="A side effect listed for the drug in the catalogue."
    )
    effect_other = models.CharField(max_length=200, blank=True)
    onset_on = models.DateField()
    ctcae_grade = models.PositiveSmallIntegerField(choices=CTCAE_GRADE_CHOICES)
    serious = models.BooleanField(default=False)
    action_taken = models.CharField(
        max_length=20, choices=SideEffectAction.choices, default=SideEffectAction.NONE
    )
    notes = models.TextField(blank=True, max_length=limits.NOTE)
    reported_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)

    objects = SideEffectReportQuerySet.as_manager()
    author_field = "reported_by"

    class Meta:
        ordering = ["-onset_on", "-id"]
        indexes = [models.Index(fields=["patient", "-onset_on"], name="side_effect_patient_onset")]
        constraints = [
            *from_1900("side_effect", "onset_on"),
            models.CheckConstraint(
                name="side_effect_ctcae_grade_range",
                condition=Q(ctcae_grade__gte=1, ctcae_grade__lte=5),
            ),
            models.CheckConstraint(
                name="side_effect_has_description", condition=~Q(effect="") | ~Q(effect_other="")
            ),
            *correction_constraints("side_effect"),
        ]

    def __str__(self) -> str:
        return f"Side-effect report {self.pk} (grade {self.ctcae_grade})"

    @property
    def description(self) -> str:
        if self.effect and self.effect_other:
            return f"{self.effect}: {self.effect_other}"
        return self.effect or self.effect_other

    @property
    def is_severe(self) -> bool:
        """Grade 3 or more, or serious: the neurologist must know the same day."""
        return self.ctcae_grade >= 3 or self.serious
