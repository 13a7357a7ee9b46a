"""Rehabilitation: therapy sessions, the outcome measures taken in them, and therapy plans.

Outcome measures are validated and scored by :mod:`treatments.outcomes` (§8.2); a measurement
stores the raw fields it was given (trial times, item scores) as well as the summary score, and
the comparison with the patient's previous measurement of the same measure.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date

import pghistory
from django.db import models
from django.db.models import Q
from django.urls import reverse

from clinic import limits
from clinic.accounts.models import Discipline
from patients.models.corrections import (
    Correctable,
    PatientCorrectableQuerySet,
    correction_constraints,
)
from patients.models.scoping import PatientOwnedQuerySet
from treatments.outcomes import MEASURES, phq9_severity


class SessionSetting(models.TextChoices):
    CLINIC = "clinic", "Clinic"
    HOME = "home", "Home"
    TELEHEALTH = "telehealth", "Telehealth"
    AQUATIC = "aquatic", "Aquatic (pool)"


class Intervention(models.TextChoices):
    BALANCE = "balance", "Balance training"
    STRENGTH = "strength", "Strength training"
    GAIT = "gait", "Gait training"
    AQUATIC = "aquatic", "Aquatic therapy"
    TAI_CHI = "tai_chi", "Tai Chi"
    FINE_MOTOR = "fine_motor", "Fine motor work"
    SPEECH = "speech", "Speech therapy"
    CBT = "cbt", "Cognitive-behavioural therapy"
    COGNITIVE_TRAINING = "cognitive_training", "Cognitive training"
    FATIGUE = "fatigue", "Fatigue management"
    ASSISTIVE_DEVICES = "assistive_devices", "Assistive devices"
    OTHER = "other", "Other"


MEASURE_CHOICES = [(m.key, m.name) for m in MEASURES.values()]
MIN_DURATION, MAX_DURATION = 5, 480


class ChangeDirection(models.TextChoices):
    NONE = "none", "No meaningful change"
    BETTER = "better", "Meaningful improvement"
    WORSE = "worse", "Meaningful worsening"


class OutcomeSource(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    PATIENT_REPORTED = "patient_reported", "Patient-reported"


class RehabSessionQuerySet(PatientCorrectableQuerySet["RehabSession"]):
    """Scoped like every patient-owned row; `standing()` leaves corrected sessions out."""


@pghistory.track()
class RehabSession(Correctable):
    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="rehab_sessions"
    )
    therapist = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="rehab_sessions"
    )
    held_on = models.DateField("Date")
    duration_minutes = models.PositiveSmallIntegerField(
        "Duration (minutes)", help_text=f"{MIN_DURATION} to {MAX_DURATION} minutes."
    )
    discipline = models.CharField(max_length=30, choices=Discipline.choices)
    setting = models.CharField(
        max_length=12, choices=SessionSetting.choices, default=SessionSetting.CLINIC
    )
    # A list of Intervention values (JSON: django.contrib.postgres is not installed).
    interventions = models.JSONField(default=list, blank=True)
    goals = models.TextField(blank=True, max_length=limits.NOTE)
    progress = models.TextField(blank=True, max_length=limits.NOTE)
    notes = models.TextField(blank=True, max_length=limits.NOTE)
    referral = models.ForeignKey(
        "patients.Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rehab_sessions",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RehabSessionQuerySet.as_manager()
    author_field = "therapist"

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["patient", "-held_on"], name="rehab_session_patient")]
        constraints = [
            models.CheckConstraint(
                name="rehab_session_duration_range",
                condition=Q(duration_minutes__gte=MIN_DURATION, duration_minutes__lte=MAX_DURATION),
                violation_error_message=f"A session lasts {MIN_DURATION} to {MAX_DURATION} minutes.",
            ),
            *correction_constraints("rehab_session"),
        ]

    def __str__(self) -> str:
        return f"Rehab session {self.external_id}"

    def get_interventions_display(self) -> list[str]:
        labels = dict(Intervention.choices)
        return [labels.get(key, key) for key in self.interventions]


class OutcomeMeasurementQuerySet(PatientOwnedQuerySet["OutcomeMeasurement"]):
    def standing(self) -> OutcomeMeasurementQuerySet:
        """Patient-reported measures and those of standing sessions: a corrected session's
        measures no longer count (an amended session's move to the session that replaces it)."""
        return self.filter(Q(session__isnull=True) | Q(session__correction=""))


@pghistory.track()
class OutcomeMeasurement(models.Model):
    """One measure taken on one day: by a therapist in a session, or reported by the patient
    through a questionnaire link (``source``; exactly one of ``session`` and
    ``questionnaire_link`` says where it came from)."""

    session = models.ForeignKey(
        RehabSession,
        on_delete=models.CASCADE,
        related_name="measurements",
        null=True,
        blank=True,
    )
    questionnaire_link = models.ForeignKey(
        "treatments.QuestionnaireLink",
        on_delete=models.PROTECT,
        related_name="measurements",
        null=True,
        blank=True,
    )
    source = models.CharField(
        max_length=20, choices=OutcomeSource.choices, default=OutcomeSource.CLINICIAN
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="outcome_measurements"
    )
    measure = models.CharField(max_length=20, choices=MEASURE_CHOICES)
    measured_on = models.DateField()
    # The raw values as entered (trial times, item scores), keyed by outcomes.FieldSpec.key.
    fields = models.JSONField()
    score = models.DecimalField(max_digits=9, decimal_places=3)
    # Compared with this patient's previous measurement of the same measure (None: the first).
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    change = models.CharField(
        max_length=10, choices=ChangeDirection.choices, default=ChangeDirection.NONE
    )
    change_delta = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    change_percent = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    threshold_text = models.CharField(max_length=300, blank=True)

    objects = OutcomeMeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["measured_on", "id"]
        indexes = [
            models.Index(
                fields=["patient", "measure", "measured_on"], name="outcome_patient_measure"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["session", "measure"], name="outcome_once_per_session"),
            models.UniqueConstraint(
                fields=["questionnaire_link", "measure"],
                condition=Q(questionnaire_link__isnull=False),
                name="outcome_once_per_questionnaire_link",
            ),
            models.CheckConstraint(
                name="outcome_source_matches_origin",
                condition=Q(
                    source="clinician", session__isnull=False, questionnaire_link__isnull=True
                )
                | Q(
                    source="patient_reported",
                    session__isnull=True,
                    questionnaire_link__isnull=False,
                ),
            ),
            models.CheckConstraint(
                name="outcome_known_measure", condition=Q(measure__in=list(MEASURES))
            ),
            models.CheckConstraint(name="outcome_score_not_negative", condition=Q(score__gte=0)),
        ]

    def __str__(self) -> str:
        return f"Outcome measurement {self.pk} ({self.measure})"

    @property
    def measure_spec(self):  # type: ignore[no-untyped-def]
        return MEASURES[self.measure]

    @property
    def is_flagged(self) -> bool:
        return self.change != ChangeDirection.NONE

    @property
    def is_patient_reported(self) -> bool:
        return self.source == OutcomeSource.PATIENT_REPORTED

    @property
    def band(self) -> str:
        """The published severity band, for the measures that have one (PHQ-9)."""
        return phq9_severity(self.score) if self.measure == "phq9" else ""


class Frequency(models.TextChoices):
    TWICE_WEEKLY = "twice_weekly", "Twice a week"
    WEEKLY = "weekly", "Weekly"
    FORTNIGHTLY = "fortnightly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"


# Days between sessions, for the on-track estimate.
FREQUENCY_DAYS = {
    Frequency.TWICE_WEEKLY: 3.5,
    Frequency.WEEKLY: 7,
    Frequency.FORTNIGHTLY: 14,
    Frequency.MONTHLY: 30,
}


@dataclass(frozen=True)
class PlanProgress:
    done: int
    planned: int
    expected: int  # sessions that should have happened by the day asked about
    on_track: bool

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.planned)) if self.planned else 0


@pghistory.track()
class TherapyPlan(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="therapy_plans"
    )
    discipline = models.CharField(max_length=30, choices=Discipline.choices)
    goals = models.TextField(max_length=limits.NOTE)
    planned_sessions = models.PositiveSmallIntegerField(help_text="1 to 100 sessions.")
    frequency = models.CharField(max_length=15, choices=Frequency.choices, default=Frequency.WEEKLY)
    starts_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="therapy_plan_sessions_range",
                condition=Q(planned_sessions__gte=1, planned_sessions__lte=100),
                violation_error_message="A plan has 1 to 100 sessions.",
            ),
            models.CheckConstraint(
                name="therapy_plan_ends_after_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("starts_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"Therapy plan {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("rehab:patient", kwargs={"external_id": self.patient.external_id})

    def expected_sessions_on(self, day: date) -> int:
        """Sessions a plan at its frequency should have delivered by ``day`` (the first on the
        start date)."""
        if day < self.starts_on:
            return 0
        interval = FREQUENCY_DAYS[Frequency(self.frequency)]
        return min(self.planned_sessions, math.floor((day - self.starts_on).days / interval) + 1)

    def progress_on(self, day: date, *, done: int) -> PlanProgress:
        """On track when no more than one session behind the plan's pace (one missed week is
        common and not yet a concern)."""
        expected = self.expected_sessions_on(day)
        return PlanProgress(
            done=done,
            planned=self.planned_sessions,
            expected=expected,
            on_track=done >= expected - 1,
        )
