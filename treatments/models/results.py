"""Results: one report (a lab panel, a serology, an ECG, an eye exam, an MRI) and its values."""

from __future__ import annotations

from decimal import Decimal

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
from treatments import grading, labs
from treatments.models.reference_ranges import range_text
from treatments.protocols import CYP2C9_GENOTYPES, investigation_name


class QualitativeValue(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    INDETERMINATE = "indeterminate", "Indeterminate"
    NORMAL = "normal", "Normal"
    ABNORMAL = "abnormal", "Abnormal"


class Flag(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    UNKNOWN = "unknown", "No reference range"


class RangeSource(models.TextChoices):
    """Which reference range a value was flagged and graded against."""

    LAB = "lab", "Reporting lab"
    CLINIC_DEFAULT = "clinic_default", "Clinic default"
    NONE = "none", "No range"


class ResultQuerySet(PatientCorrectableQuerySet["Result"]):
    def to_review(self) -> ResultQuerySet:
        return self.standing().filter(reviewed_at__isnull=True)


# Whether an evaluation is pending is bookkeeping, not the result's clinical history.
@pghistory.track(exclude=["evaluation_pending"])
class Result(Correctable):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="results"
    )
    investigation = models.CharField(max_length=40)
    taken_on = models.DateField(help_text="Date the sample was taken or the test was done.")
    lab = models.CharField("Reporting lab or site", max_length=120, blank=True)
    qualitative = models.CharField(max_length=14, choices=QualitativeValue.choices, blank=True)
    index_value = models.DecimalField(
        "Index",
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="JCV antibody index.",
    )
    genotype = models.CharField(
        max_length=12,
        blank=True,
        help_text="A genotype result (CYP2C9): one of the investigation's listed values.",
    )
    macular_oedema = models.BooleanField(null=True, blank=True)
    mri_study_ref = models.CharField(
        "MRI study",
        max_length=120,
        blank=True,
        help_text="Reference of the MRI study (linked when the patients app records studies).",
    )
    note = models.TextField(blank=True, max_length=limits.NOTE)
    is_abnormal = models.BooleanField(default=False)
    # Set when the result is saved, cleared in the transaction that evaluates it: a result whose
    # evaluation was never queued (the broker down, a batch cut short by a killed process) is
    # found by the pending-evaluation sweep through a partial index (treatments.safety.tasks).
    evaluation_pending = models.BooleanField(default=False, db_default=False)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, max_length=limits.REASON)

    objects = ResultQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_on", "-id"]
        indexes = [
            models.Index(
                fields=["patient", "investigation", "taken_on"], name="result_patient_inv"
            ),
            # "Results to review" on the worklist, and the alerts engine's abnormal-result sweep.
            models.Index(
                fields=["patient", "recorded_at"],
                condition=Q(reviewed_at__isnull=True),
                name="result_unreviewed_idx",
            ),
            models.Index(
                fields=["recorded_at"],
                condition=Q(evaluation_pending=True),
                name="result_evaluation_pending_idx",
            ),
        ]
        constraints = [
            *from_1900("result", "taken_on"),
            # A genotype is one of the listed alleles or nothing: never free text (§3.7).
            models.CheckConstraint(
                name="result_genotype_listed",
                condition=Q(genotype="") | Q(genotype__in=CYP2C9_GENOTYPES),
            ),
            models.CheckConstraint(
                name="result_review_complete",
                condition=Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
            ),
            *correction_constraints("result"),
        ]

    def __str__(self) -> str:
        return f"Result {self.pk} ({self.investigation} {self.taken_on:%Y-%m-%d})"

    @property
    def investigation_name(self) -> str:
        return investigation_name(self.investigation)

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None

    def summary(self, values: list[ResultValue] | None = None) -> str:
        parts = [v.display for v in (values if values is not None else self.values.all())]
        if self.genotype:
            parts.insert(0, self.genotype)
        if self.qualitative:
            parts.insert(0, self.get_qualitative_display())
        if self.index_value is not None:
            parts.append(f"index {self.index_value.normalize()}")
        if self.macular_oedema is not None:
            parts.append("macular oedema" if self.macular_oedema else "no macular oedema")
        if self.mri_study_ref:
            parts.append(self.mri_study_ref)
        return "; ".join(parts) or self.note[:80]


class ResultValue(models.Model):
    """One analyte of a result, in the canonical unit, with the reporting lab's range.

    The value as entered is kept beside the canonical one, so a transcription question can be
    answered from the row. `lln`/`uln` are the lab's limits converted to the canonical unit:
    alert rules relative to ULN/LLN (§0.2) read them from here.
    """

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="values")
    analyte = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=24)
    entered_value = models.CharField(max_length=24)
    entered_unit = models.CharField(max_length=24)
    lln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    uln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    flag = models.CharField(max_length=8, choices=Flag.choices, default=Flag.UNKNOWN)
    ctcae_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    times_uln = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    range_source = models.CharField(
        max_length=16, choices=RangeSource.choices, default=RangeSource.NONE
    )
    reference_range = models.ForeignKey(
        "treatments.ReferenceRange",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The clinic default version the value was graded against (no lab range).",
    )

    class Meta:
        ordering = ["result", "id"]
        indexes = [models.Index(fields=["analyte", "result"], name="result_value_analyte")]
        constraints = [
            models.UniqueConstraint(fields=["result", "analyte"], name="result_value_unique"),
            models.CheckConstraint(
                name="result_value_range_order",
                condition=Q(lln__isnull=True) | Q(uln__isnull=True) | Q(lln__lte=models.F("uln")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} on result {self.result_id}"

    @property
    def analyte_name(self) -> str:
        return investigation_name(self.analyte)

    def graded_ctcae(self, *, baseline: Decimal | None = None) -> int | None:
        """The CTCAE v5 grade of this value: the one place a value is graded. Without the lab's
        limit that the grade is measured against (or for an analyte CTCAE does not grade), none.
        With a baseline, ALT/AST/bilirubin abnormal at baseline and creatinine are graded
        against it (record_result grades without it; evaluation re-grades with it)."""
        try:
            return grading.ctcae_grade(
                self.analyte, self.value, lln=self.lln, uln=self.uln, baseline=baseline
            )
        except (labs.MissingReferenceLimit, labs.UnknownAnalyte):
            return None

    @property
    def display(self) -> str:
        text = f"{self.analyte_name} {_plain(self.value)} {self.unit}"
        if self.flag in (Flag.LOW, Flag.HIGH):
            text += f" ({self.get_flag_display().lower()})"
        return text

    @property
    def range_display(self) -> str:
        return range_text(self.lln, self.uln, self.unit)

    @property
    def range_origin(self) -> str:
        """Which range the flag and grade came from, for the result's page. Needs
        `reference_range` loaded (select_related) for the default's source."""
        if self.range_source == RangeSource.LAB:
            return "range: lab"
        if self.range_source == RangeSource.CLINIC_DEFAULT and self.reference_range is not None:
            return f"range: clinic default ({self.reference_range.source})"
        return "no range"


def flag_for(value: Decimal, lln: Decimal | None, uln: Decimal | None) -> Flag:
    if lln is None and uln is None:
        return Flag.UNKNOWN
    if lln is not None and value < lln:
        return Flag.LOW
    if uln is not None and value > uln:
        return Flag.HIGH
    return Flag.NORMAL


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text
