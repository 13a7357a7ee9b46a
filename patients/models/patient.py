from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic import limits
from clinic.accounts.models import CLINICAL_ROLES
from clinic.dates import from_1900
from clinic.links import link
from clinic.permissions import Perm, may
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
    pira: bool = False
    # Treatment columns, applied by treatments.caseload.services.annotate_caseload.
    dmt: str = ""
    overdue: bool = False
    open_alerts: bool = False
    sort: str = CaseloadSort.NAME


def _sees_patients(user: User) -> bool:
    # Which roles see patients at all is the permission table's; which patients, this module's.
    return may(user, Perm.PATIENT_VIEW)


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, user: User) -> PatientQuerySet:
        """The one place that decides which patients a user may see.

        Clinicians see the patients of the care teams they belong to, plus any patient they
        hold a live emergency-access grant for (read-only: see `editable_by`). Clinic admins
        manage the clinic, not patients, and see none. Anyone else (anonymous, inactive, no
        role) sees none.
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
        granted = EmergencyAccess.objects.live().filter(user=user).values("patient_id")
        return self.editable_ids(user).union(granted)

    def editable_by(self, user: User) -> PatientQuerySet:
        """The patients whose records the user may change: those of their own care teams.

        A patient seen only through an emergency grant is read-only, so every state-changing
        request goes through this (clinic.audit.access.get_scoped_or_404 does it for views)."""
        if not _sees_patients(user):
            return self.none()
        return self.filter(pk__in=self.editable_ids(user))

    def editable_ids(self, user: User) -> models.QuerySet[Any]:
        """The ids of `editable_by(user)` as a subquery."""
        if not _sees_patients(user):
            return Patient.objects.none().values("pk")
        team_ids = user.care_teams.through.objects.filter(user=user).values("careteam_id")
        return Patient.objects.filter(care_team__in=team_ids).values("pk")

    def with_emergency_access(self, user: User) -> PatientQuerySet:
        """Annotates `emergency_until`: when the user's read-only emergency access ends, for a
        patient they see only through a grant (None for their own teams' patients). In the
        same query as the patient, so the patient page's banner costs nothing."""
        team_ids = user.care_teams.through.objects.filter(user=user).values("careteam_id")
        until = (
            EmergencyAccess.objects.live()
            .filter(user=user, patient=models.OuterRef("pk"))
            .order_by("-expires_at")
            .values("expires_at")[:1]
        )
        return self.annotate(
            emergency_until=models.Case(
                models.When(care_team__in=team_ids, then=None),
                default=models.Subquery(until),
                output_field=models.DateTimeField(),
            )
        )

    def same_person_as(
        self, *, given_name: str, family_name: str, date_of_birth: date
    ) -> PatientQuerySet:
        """Patients with these names (any case) and this date of birth: possible duplicates."""
        return self.filter(
            given_name__iexact=given_name.strip(),
            family_name__iexact=family_name.strip(),
            date_of_birth=date_of_birth,
        )

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
        # The user's own teams' patients: one opened by an emergency grant is listed apart
        # (the patient list's emergency section), not in anyone's caseload.
        rows = self.editable_by(user)
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
        if filters.pira:
            rows = rows.filter(pira_confirmed_on__isnull=False)
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
    address = models.TextField(blank=True, max_length=limits.REASON)
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
    comorbidities = models.TextField(blank=True, max_length=limits.NOTE)
    allergies = models.TextField(blank=True, max_length=limits.NOTE)
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
    pira_confirmed_on = models.DateField(
        "PIRA confirmed on",
        null=True,
        blank=True,
        editable=False,
        help_text="The most recent progression independent of relapse activity.",
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
            models.CheckConstraint(
                name="patient_male_not_pregnant",
                condition=~Q(sex="male") | Q(pregnancy_status="not_applicable"),
                violation_error_message="A male patient's pregnancy status is not applicable.",
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


class EmergencyAccessQuerySet(models.QuerySet["EmergencyAccess"]):
    def live(self, *, at: datetime | None = None) -> EmergencyAccessQuerySet:
        """Grants that open a patient now: matched a patient, not expired, not ended, and held
        by a user who still has the right. Removing a user's right (can_break_glass, the
        account, a clinical role) ends their grants at once, whoever forgets to end them."""
        return self.filter(
            patient__isnull=False,
            ended_at__isnull=True,
            expires_at__gt=at or timezone.now(),
            user__can_break_glass=True,
            user__is_active=True,
            user__role__in=CLINICAL_ROLES,
        )

    def opening_for(self, user: User) -> EmergencyAccessQuerySet:
        """The user's live grants to patients outside their care teams (the patients they see
        only this way, read-only), soonest to end first, with the patient."""
        return (
            self.live()
            .filter(user=user)
            .exclude(patient__in=Patient.objects.editable_ids(user))
            .select_related("patient__care_team")
            .order_by("expires_at", "pk")
        )


class EmergencyAccess(models.Model):
    """A "break glass" request: a time-limited, read-only grant to a patient outside the
    user's care teams, or (patient empty) a request whose MRN matched no patient, kept so that
    it counts towards the daily limit like any other and the form is no MRN oracle."""

    DEFAULT_DURATION = timedelta(hours=4)

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reason = models.TextField(max_length=limits.NOTE)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Set when the grant is ended before it expires (the user's right was removed).
    ended_at = models.DateTimeField(null=True, blank=True)
    # The clinic admins' notice (patients.emergency.services.notify_admins): claimed, then
    # confirmed once sent; a claim never confirmed is taken again after a while.
    notice_claimed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "patient", "expires_at"], name="emergency_live"),
            # The daily limit counts a user's requests of the last 24 hours.
            models.Index(fields=["user", "granted_at"], name="emergency_user_recent"),
            # The admins' notice looks for requests nobody has been told about yet.
            models.Index(
                fields=["user"], name="emergency_untold", condition=Q(notified_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="emergency_expires_after_grant",
                condition=Q(expires_at__gt=models.F("granted_at")),
            )
        ]

    def __str__(self) -> str:
        return f"Emergency access {self.pk}"
