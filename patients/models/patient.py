from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.dates import from_1900
from clinic.links import link
from patients.models.clinical import COURSE_SHORT, DiseaseCourse

if TYPE_CHECKING:
    from clinic.accounts.models import User

MRN_PATTERN = re.compile(r"^[A-Z0-9]{6,12}$")


def validate_mrn(value: str) -> None:
    if not MRN_PATTERN.match(value):
        raise ValidationError(
            "An MRN is 6 to 12 capital letters or digits, without spaces or punctuation.",
            code="invalid_mrn",
        )


# The caseload's "relapse in the last 90 days" filter and the patient page's recent-relapse flag.
RECENT_RELAPSE_DAYS = 90
# "EDSS worsening" includes a progression confirmed within this many days.
RECENT_PROGRESSION_DAYS = 365


class CaseloadScope(models.TextChoices):
    MINE = "mine", "My patients"
    TEAMS = "teams", "All my teams' patients"


class CaseloadSort(models.TextChoices):
    NAME = "name", "Name"
    EDSS = "edss", "Latest EDSS (highest first)"
    RELAPSE = "relapse", "Last relapse (most recent first)"


@dataclass(frozen=True)
class CaseloadFilters:
    """What the caseload shows. Other apps' filters (DMT, overdue monitoring, open alerts) are
    added as fields here and as QuerySet methods they chain onto `caseload_rows`."""

    scope: str = CaseloadScope.MINE
    query: str = ""
    course: str = ""
    status: str = "active"  # a PatientStatus value, or "" for any status
    relapse_recent: bool = False
    edss_worsening: bool = False
    neda_lost: bool = False
    # Treatment columns, applied by treatments.caseload.services.annotate_caseload.
    dmt: str = ""
    overdue: bool = False
    open_alerts: bool = False
    sort: str = CaseloadSort.NAME


def _sees_patients(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_clinician)


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, user: User) -> PatientQuerySet:
        """The one place that decides which patients a user may see.

        Clinicians see the patients of the care teams they belong to, plus any patient they
        hold a live emergency-access grant for. Clinic admins manage the clinic, not patients,
        and see none. Anyone else (anonymous, inactive, no role) sees none.
        """
        if not _sees_patients(user):
            return self.none()
        return self.filter(pk__in=self.visible_ids(user))

    def visible_ids(self, user: User) -> models.QuerySet[Any]:
        """The ids of `visible_to(user)` as a subquery, for filtering other tables by patient
        (`patient__in=...`) without a detour through the patient table.

        One set of ids, the union of both reasons: PostgreSQL plans `id IN (a UNION b)` as an
        index lookup per reason, where `a OR EXISTS (b)` made it scan every patient.
        """
        if not _sees_patients(user):
            return Patient.objects.none().values("pk")
        team_ids = user.care_teams.through.objects.filter(user=user).values("careteam_id")
        in_team = Patient.objects.filter(care_team__in=team_ids).values("pk")
        granted = EmergencyAccess.objects.filter(user=user, expires_at__gt=timezone.now()).values(
            "patient_id"
        )
        return in_team.union(granted)

    def search(self, text: str) -> PatientQuerySet:
        text = text.strip()
        if not text:
            return self
        query = Q(mrn__iexact=text.replace(" ", "").upper())
        for word in text.split():
            query |= Q(family_name__icontains=word) | Q(given_name__icontains=word)
        return self.filter(query)

    # The filters below read the derived columns `services.refresh_clinical_status` keeps up to
    # date, so a caseload of any length is one query.

    def with_recent_relapse(self, *, today: date) -> PatientQuerySet:
        return self.filter(last_relapse_onset_on__gte=today - timedelta(days=RECENT_RELAPSE_DAYS))

    def edss_worsening(self, *, today: date) -> PatientQuerySet:
        since = today - timedelta(days=RECENT_PROGRESSION_DAYS)
        return self.filter(Q(edss_trend=EdssTrend.UP) | Q(cdp_confirmed_on__gte=since))

    def neda_lost(self, *, year: int) -> PatientQuerySet:
        return self.filter(neda_year=year, neda_achieved=False)

    def caseload_rows(
        self, *, user: User, filters: CaseloadFilters, today: date
    ) -> PatientQuerySet:
        """The caseload: scoped, filtered and sorted, ready to paginate.

        Other apps add their columns by chaining annotations onto the result (one query per
        page, whatever its length); nothing here loads related rows per patient.
        """
        rows = self.visible_to(user)
        if filters.scope != CaseloadScope.TEAMS:
            rows = rows.filter(neurologist=user)
        rows = rows.search(filters.query)
        if filters.course:
            rows = rows.filter(current_course=filters.course)
        if filters.status:
            rows = rows.filter(status=filters.status)
        if filters.relapse_recent:
            rows = rows.with_recent_relapse(today=today)
        if filters.edss_worsening:
            rows = rows.edss_worsening(today=today)
        if filters.neda_lost:
            rows = rows.neda_lost(year=today.year - 1)
        order: list = {
            CaseloadSort.EDSS: [models.F("latest_edss").desc(nulls_last=True)],
            CaseloadSort.RELAPSE: [models.F("last_relapse_onset_on").desc(nulls_last=True)],
        }.get(filters.sort, [])  # type: ignore[call-overload]
        return rows.select_related("care_team", "neurologist").order_by(
            *order, "family_name", "given_name", "id"
        )


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


class EdssTrend(models.TextChoices):
    UP = "up", "Worsening"
    DOWN = "down", "Improving"
    STABLE = "stable", "Stable"


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

    # Derived from the clinical records by `services.refresh_clinical_status` whenever one is
    # saved, so the caseload filters and sorts on plain columns. Never edited by hand.
    current_course = models.CharField(
        max_length=10, choices=DiseaseCourse.choices, blank=True, editable=False
    )
    latest_edss = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, editable=False
    )
    latest_edss_on = models.DateField(null=True, blank=True, editable=False)
    previous_edss = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, editable=False
    )
    edss_trend = models.CharField(
        max_length=10, choices=EdssTrend.choices, blank=True, editable=False
    )
    cdp_confirmed_on = models.DateField(
        "Progression confirmed on",
        null=True,
        blank=True,
        editable=False,
        help_text="The most recent confirmed disability progression (§9.2).",
    )
    last_relapse_onset_on = models.DateField(null=True, blank=True, editable=False)
    neda_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    neda_achieved = models.BooleanField(
        null=True,
        blank=True,
        editable=False,
        help_text="NEDA-3 in `neda_year`; empty if not evaluable.",
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            models.Index(
                fields=["care_team", "family_name", "given_name"], name="patient_team_name"
            ),
            # The caseload's default view: a neurologist's own patients by name.
            models.Index(
                fields=["neurologist", "family_name", "given_name"], name="patient_neuro_name"
            ),
        ]
        constraints = [
            *from_1900("patient", "date_of_birth", "diagnosis_on"),
            models.CheckConstraint(
                name="patient_mrn_format", condition=Q(mrn__regex=r"^[A-Z0-9]{6,12}$")
            ),
        ]

    def __str__(self) -> str:
        # Deliberately not the name: str() ends up in logs and admin messages.
        return f"Patient {self.external_id}"

    def get_absolute_url(self) -> str:
        return link("patients:detail", self.external_id)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def listing_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def current_course_short(self) -> str:
        return COURSE_SHORT.get(self.current_course, "")

    @property
    def has_allergies(self) -> bool:
        return bool(self.allergies.strip())

    @property
    def pregnancy_flag(self) -> bool:
        """Planning, pregnant or postpartum changes DMT and MRI decisions (§10)."""
        return self.pregnancy_status in {
            PregnancyStatus.PLANNING,
            PregnancyStatus.PREGNANT,
            PregnancyStatus.POSTPARTUM,
        }

    def had_recent_relapse(self, today: date) -> bool:
        return self.last_relapse_onset_on is not None and (
            self.last_relapse_onset_on >= today - timedelta(days=RECENT_RELAPSE_DAYS)
        )

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
