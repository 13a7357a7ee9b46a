"""The clinical picture: disease course history, EDSS assessments, relapses and MRI studies.

Section numbers ("§9.1") point to the shared reference ``dmt-monitoring.md``. Rows are written
by the workflows in ``patients.records.services``; the rules here are about one row only.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pghistory
from django.db import models
from django.db.models import F, Q

from clinic import limits
from clinic.dates import from_1900
from patients.edss import FS_NAMES, FS_ORDER, FS_RANGES
from patients.models.corrections import (
    Correctable,
    PatientCorrectableQuerySet,
    correction_constraints,
)
from patients.progression import EdssPoint, MriPoint, RelapsePeriod


class DiseaseCourse(models.TextChoices):
    RIS = "ris", "Radiologically isolated syndrome (RIS)"
    CIS = "cis", "Clinically isolated syndrome (CIS)"
    RRMS = "rrms", "Relapsing-remitting MS (RRMS)"
    SPMS = "spms", "Secondary progressive MS (SPMS)"
    PPMS = "ppms", "Primary progressive MS (PPMS)"

    @property
    def short(self) -> str:
        return self.name

    @property
    def snomed_code(self) -> str:
        """SNOMED CT concept (§11.3). RIS and CIS have no confirmed code there: left blank
        rather than guessed."""
        return SNOMED_CODES.get(self, "")


SNOMED_CODES: dict[str, str] = {
    DiseaseCourse.RRMS: "426373005",
    DiseaseCourse.SPMS: "425500002",
    DiseaseCourse.PPMS: "428700003",
}

COURSE_SHORT: dict[str, str] = {course.value: course.name for course in DiseaseCourse}


class CourseStateQuerySet(PatientCorrectableQuerySet["CourseState"]):
    def overlapping(self, start_on: date, end_on: date | None) -> CourseStateQuerySet:
        """States sharing at least one day with [start_on, end_on] (open end = ongoing)."""
        query = Q(end_on__isnull=True) | Q(end_on__gte=start_on)
        if end_on is not None:
            query &= Q(start_on__lte=end_on)
        return self.filter(query)


@pghistory.track()
class CourseState(Correctable):
    """One dated state of the disease course. At most one standing state is open (no end) per
    patient."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="course_states"
    )
    course = models.CharField(max_length=10, choices=DiseaseCourse.choices)
    start_on = models.DateField("From")
    end_on = models.DateField("Until", null=True, blank=True, help_text="Leave empty if current.")
    note = models.TextField(
        blank=True, max_length=limits.NOTE, help_text="Basis of the diagnosis or change."
    )
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = CourseStateQuerySet.as_manager()

    class Meta:
        ordering = ["start_on", "id"]
        constraints = [
            *from_1900("course_state", "start_on", "end_on"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(end_on__isnull=True, correction=""),
                name="course_state_one_open_per_patient",
                violation_error_message="This patient already has a current disease course.",
            ),
            models.CheckConstraint(
                name="course_state_end_not_before_start",
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                violation_error_message="The end date cannot be before the start date.",
            ),
            *correction_constraints("course_state"),
        ]

    def __str__(self) -> str:
        return f"Course state {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.end_on is None

    @property
    def course_short(self) -> str:
        return COURSE_SHORT[self.course]

    @property
    def snomed_code(self) -> str:
        return DiseaseCourse(self.course).snomed_code


def _fs_range_constraints() -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            name=f"edss_{name}_in_range",
            condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}),
            violation_error_message=f"{FS_NAMES[name]} must be from {low} to {high}.",
        )
        for name, (low, high) in FS_RANGES.items()
    ]


@pghistory.track()
class EdssAssessment(Correctable):
    """A Neurostatus-EDSS: the raw scores as entered and the step computed from them (§7).

    The step is computed by ``patients.edss.calculate_edss`` in ``services.record_edss`` and
    stored with the rule that decided it, so a later change of the calculator's options never
    silently rewrites a past score.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="edss_assessments"
    )
    assessed_on = models.DateField("Assessment date")
    visual = models.PositiveSmallIntegerField()
    brainstem = models.PositiveSmallIntegerField()
    pyramidal = models.PositiveSmallIntegerField()
    cerebellar = models.PositiveSmallIntegerField()
    sensory = models.PositiveSmallIntegerField()
    bowel_bladder = models.PositiveSmallIntegerField("Bowel and bladder")
    cerebral = models.PositiveSmallIntegerField()
    ambulation = models.PositiveSmallIntegerField("Ambulation score")
    step = models.DecimalField("EDSS", max_digits=3, decimal_places=1)
    fs_step = models.DecimalField("Step from FS grades", max_digits=3, decimal_places=1)
    ambulation_step = models.DecimalField(
        "Step from walking", max_digits=3, decimal_places=1, null=True, blank=True
    )
    rule = models.TextField(help_text="Which Neurostatus rule decided the step.")
    inconsistencies = models.JSONField(default=list, blank=True)
    assessed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = PatientCorrectableQuerySet.as_manager()
    author_field = "assessed_by"

    class Meta:
        ordering = ["assessed_on", "id"]
        constraints = [
            *from_1900("edss", "assessed_on"),
            # Two scores on one day would make the trend and CDP depend on insertion order.
            models.UniqueConstraint(
                fields=["patient", "assessed_on"],
                condition=Q(correction=""),
                name="edss_one_per_patient_per_day",
                violation_error_message="An EDSS is already recorded for this patient on this day.",
            ),
            models.CheckConstraint(
                name="edss_step_valid",
                condition=Q(step=0) | Q(step__gte=1, step__lte=10),
                violation_error_message="The EDSS is 0 or from 1.0 to 10.0.",
            ),
            models.CheckConstraint(
                name="edss_ambulation_in_range",
                condition=Q(ambulation__gte=0, ambulation__lte=16),
                violation_error_message="The ambulation score is from 0 to 16.",
            ),
            *_fs_range_constraints(),
            *correction_constraints("edss"),
        ]

    def __str__(self) -> str:
        return f"EDSS assessment {self.pk}"

    def as_point(self) -> EdssPoint:
        return EdssPoint(self.assessed_on, Decimal(self.step))

    @property
    def fs_scores(self) -> list[tuple[str, int]]:
        return [(FS_NAMES[name], getattr(self, name)) for name in FS_ORDER]


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Recovery(models.TextChoices):
    COMPLETE = "complete", "Complete"
    PARTIAL = "partial", "Partial"
    NONE = "none", "None"
    UNKNOWN = "unknown", "Not yet known"


class RelapseTreatment(models.TextChoices):
    IV_METHYLPREDNISOLONE = "iv_mp", "IV methylprednisolone"
    ORAL_STEROIDS = "oral_steroids", "Oral steroids"
    PLASMA_EXCHANGE = "plex", "Plasma exchange"
    NONE = "none", "None"


FS_CHOICES = [(name, FS_NAMES[name]) for name in FS_ORDER]

# §9.1: a new relapse starts at least 30 days after the previous onset, otherwise it is
# probably part of the same event.
RELAPSE_SEPARATION_DAYS = 30


@pghistory.track()
class Relapse(Correctable):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="relapses"
    )
    onset_on = models.DateField("Onset")
    end_on = models.DateField(
        "Resolved", null=True, blank=True, help_text="Leave empty while still active."
    )
    symptoms = models.TextField(max_length=limits.NOTE)
    # A list of FS_ORDER keys (JSON rather than an array: django.contrib.postgres is not
    # installed, and nothing filters on it).
    functional_systems = models.JSONField("Functional systems involved", default=list, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    objectively_confirmed = models.BooleanField(
        "Confirmed on examination", default=False, help_text="An objective change on exam."
    )
    infection_excluded = models.BooleanField(
        "Infection excluded",
        default=False,
        help_text="Fever and infection (e.g. urinary) ruled out: not a pseudo-relapse (§9.1).",
    )
    recovery = models.CharField(max_length=10, choices=Recovery.choices, default=Recovery.UNKNOWN)
    treatment = models.CharField(
        "Treatment given",
        max_length=20,
        choices=RelapseTreatment.choices,
        default=RelapseTreatment.NONE,
    )
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = PatientCorrectableQuerySet.as_manager()

    class Meta:
        ordering = ["onset_on", "id"]
        constraints = [
            *from_1900("relapse", "onset_on", "end_on"),
            models.CheckConstraint(
                name="relapse_end_not_before_onset",
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("onset_on")),
                violation_error_message="The end date cannot be before the onset.",
            ),
            # The same onset twice is the same relapse entered twice (issue #15); one within
            # 30 days is saved with a warning (§9.1: the clinician decides).
            models.UniqueConstraint(
                fields=["patient", "onset_on"],
                condition=Q(correction=""),
                name="relapse_one_per_onset",
                violation_error_message="A relapse with this onset is already recorded.",
            ),
            *correction_constraints("relapse"),
        ]

    def __str__(self) -> str:
        return f"Relapse {self.pk}"

    def as_period(self) -> RelapsePeriod:
        return RelapsePeriod(self.onset_on, self.end_on)

    def is_close_after(self, previous: Relapse) -> bool:
        """Whether this relapse starts within 30 days of ``previous``'s onset (§9.1)."""
        gap = self.onset_on - previous.onset_on
        return timedelta(0) <= gap < timedelta(days=RELAPSE_SEPARATION_DAYS)

    @property
    def functional_system_labels(self) -> list[str]:
        return [FS_NAMES.get(name, name) for name in self.functional_systems]


class FieldStrength(models.TextChoices):
    T1_5 = "1.5t", "1.5 T"
    T3 = "3t", "3 T"
    OTHER = "other", "Other"


@pghistory.track()
class MriStudy(Correctable):
    """A brain MRI read against the previous (or re-baseline) scan (§9.3, §10)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="mri_studies"
    )
    study_on = models.DateField("Scan date")
    field_strength = models.CharField(
        max_length=10, choices=FieldStrength.choices, default=FieldStrength.T3
    )
    contrast_given = models.BooleanField("Gadolinium given", default=False)
    new_or_enlarging_t2 = models.PositiveSmallIntegerField("New or enlarging T2 lesions", default=0)
    gad_enhancing = models.PositiveSmallIntegerField(
        "Gadolinium-enhancing lesions",
        null=True,
        blank=True,
        help_text="Only with contrast; leave empty for a non-contrast scan.",
    )
    is_baseline = models.BooleanField(
        "(Re-)baseline scan",
        default=False,
        help_text="The reference for later scans, e.g. 3 to 6 months after starting a DMT (§10).",
    )
    report = models.TextField("Report", blank=True, max_length=limits.REPORT)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = PatientCorrectableQuerySet.as_manager()

    class Meta:
        ordering = ["study_on", "id"]
        constraints = [
            *from_1900("mri", "study_on"),
            # A gadolinium count without gadolinium is a transcription error.
            models.CheckConstraint(
                name="mri_gad_count_needs_contrast",
                condition=Q(contrast_given=True) | Q(gad_enhancing__isnull=True),
                violation_error_message="Gadolinium-enhancing lesions need a contrast scan.",
            ),
            *correction_constraints("mri"),
        ]

    def __str__(self) -> str:
        return f"MRI study {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.new_or_enlarging_t2 > 0 or bool(self.gad_enhancing)

    def as_point(self) -> MriPoint:
        # Without contrast no enhancing lesion can be seen: T2 alone judges activity.
        return MriPoint(
            self.study_on, self.new_or_enlarging_t2, self.gad_enhancing or 0, self.is_baseline
        )
