from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pghistory
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from clinic.accounts.models import User

MRN_PATTERN = re.compile(r"^[A-Z0-9]{6,12}$")


def validate_mrn(value: str) -> None:
    if not MRN_PATTERN.match(value):
        raise ValidationError(
            "An MRN is 6 to 12 capital letters or digits, without spaces or punctuation.",
            code="invalid_mrn",
        )


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, user: User) -> PatientQuerySet:
        """The one place that decides which patients a user may see.

        Clinicians see the patients of the care teams they belong to, plus any patient they
        hold a live emergency-access grant for. Clinic admins manage the clinic, not patients,
        and see none. Anyone else (anonymous, inactive, no role) sees none.
        """
        if not user.is_authenticated or not user.is_active or not user.is_clinician:
            return self.none()
        team_ids = user.care_teams.values("pk")
        live_grant = EmergencyAccess.objects.filter(
            user=user, patient=OuterRef("pk"), expires_at__gt=timezone.now()
        )
        return self.filter(Q(care_team__in=team_ids) | Q(Exists(live_grant)))

    def search(self, text: str) -> PatientQuerySet:
        text = text.strip()
        if not text:
            return self
        query = Q(mrn__iexact=text.replace(" ", "").upper())
        for word in text.split():
            query |= Q(family_name__icontains=word) | Q(given_name__icontains=word)
        return self.filter(query)


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other / intersex"
    UNKNOWN = "unknown", "Not recorded"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TRANSFERRED = "transferred", "Transferred"
    DECEASED = "deceased", "Deceased"


class PregnancyStatus(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NOT_PLANNING = "not_planning", "Not planning pregnancy"
    PLANNING = "planning", "Planning pregnancy"
    PREGNANT = "pregnant", "Pregnant"
    POSTPARTUM = "postpartum", "Postpartum / breastfeeding"


class SmokingStatus(models.TextChoices):
    NEVER = "never", "Never smoked"
    FORMER = "former", "Former smoker"
    CURRENT = "current", "Current smoker"
    UNKNOWN = "unknown", "Not recorded"


@pghistory.track()
class Patient(models.Model):
    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mrn = models.CharField(
        "MRN",
        max_length=12,
        unique=True,
        validators=[validate_mrn],
        help_text="Medical record number: 6 to 12 capital letters or digits.",
        error_messages={"unique": "Another patient already has this MRN."},
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    status = models.CharField(
        max_length=15, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    diagnosis_on = models.DateField("Diagnosis date", null=True, blank=True)
    care_team = models.ForeignKey(
        "accounts.CareTeam", on_delete=models.PROTECT, related_name="patients"
    )
    neurologist = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="neurology_patients",
        null=True,
        blank=True,
        limit_choices_to={"role": "neurologist"},
    )
    nurse = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="nursing_patients",
        null=True,
        blank=True,
        limit_choices_to={"role": "nurse"},
    )
    pregnancy_status = models.CharField(
        max_length=20, choices=PregnancyStatus.choices, default=PregnancyStatus.NOT_APPLICABLE
    )
    smoking_status = models.CharField(
        max_length=10, choices=SmokingStatus.choices, default=SmokingStatus.UNKNOWN
    )
    comorbidities = models.TextField(blank=True)
    allergies = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            models.Index(
                fields=["care_team", "family_name", "given_name"], name="patient_team_name"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="patient_mrn_format", condition=Q(mrn__regex=r"^[A-Z0-9]{6,12}$")
            ),
        ]

    def __str__(self) -> str:
        # Deliberately not the name: str() ends up in logs and admin messages.
        return f"Patient {self.external_id}"

    def get_absolute_url(self) -> str:
        return reverse("patients:detail", kwargs={"external_id": self.external_id})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def listing_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class EmergencyAccess(models.Model):
    """A time-limited "break glass" grant to a patient outside the user's care teams."""

    DEFAULT_DURATION = timedelta(hours=4)

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="emergency_live")]
        constraints = [
            models.CheckConstraint(
                name="emergency_expires_after_grant",
                condition=Q(expires_at__gt=models.F("granted_at")),
            )
        ]

    def __str__(self) -> str:
        return f"Emergency access {self.pk}"
