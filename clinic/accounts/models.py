from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.crypto import salted_hmac

# Django's own salt, so a user whose sessions were never revoked keeps Django's hash and nobody
# is signed out by the upgrade that added session_generation.
_SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


class Role(models.TextChoices):
    NEUROLOGIST = "neurologist", "Neurologist"
    NURSE = "nurse", "MS nurse"
    THERAPIST = "therapist", "Therapist"
    ADMIN = "admin", "Clinic admin"


class Discipline(models.TextChoices):
    """A therapist's discipline. Referral targets (a wider list) live with referrals."""

    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    OCCUPATIONAL_THERAPY = "occupational_therapy", "Occupational therapy"
    SPEECH_AND_LANGUAGE = "speech_language", "Speech and language therapy"
    PSYCHOLOGY = "psychology", "Psychology / neuropsychology"


CLINICAL_ROLES = frozenset({Role.NEUROLOGIST, Role.NURSE, Role.THERAPIST})


class CareTeam(models.Model):
    name = models.CharField(max_length=120, unique=True)
    lead_neurologist = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        help_text="Receives escalations of unacknowledged critical alerts.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices)
    discipline = models.CharField(
        max_length=30,
        choices=Discipline.choices,
        blank=True,
        help_text="Therapists only.",
    )
    care_teams = models.ManyToManyField(CareTeam, related_name="members", blank=True)
    can_break_glass = models.BooleanField(
        default=False,
        help_text="Pre-authorised for emergency access to patients outside their care teams.",
    )
    must_change_password = models.BooleanField(
        default=False,
        help_text="Set when a clinic admin chose the password: every page asks for a new one.",
    )
    session_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised when a session of this user ended while the session cache was "
        "unreachable: every session signed in before then stops being accepted.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="role_is_known",
                condition=models.Q(role__in=Role.values),
                violation_error_message="Choose a role.",
            ),
            # One account is either the clinic's admin or a clinician, never both: an admin holds
            # no clinical right. (Care teams are a many-to-many table; the same rule is a trigger
            # there, migration 0004.)
            models.CheckConstraint(
                name="clinic_admin_cannot_break_glass",
                condition=~models.Q(role="admin") | models.Q(can_break_glass=False),
                violation_error_message="A clinic admin cannot hold the break-glass right.",
            ),
            models.CheckConstraint(
                name="therapist_has_discipline",
                condition=~models.Q(role="therapist") | ~models.Q(discipline=""),
                violation_error_message="A therapist needs a discipline.",
            ),
            models.CheckConstraint(
                name="only_therapists_have_discipline",
                condition=models.Q(role="therapist") | models.Q(discipline=""),
                violation_error_message="Only therapists have a discipline.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.role == Role.THERAPIST and not self.discipline:
            errors["discipline"] = "A therapist needs a discipline."
        if self.role != Role.THERAPIST and self.discipline:
            errors["discipline"] = "Only therapists have a discipline."
        if self.role == Role.ADMIN:
            if self.can_break_glass:
                errors["can_break_glass"] = "A clinic admin cannot hold the break-glass right."
            if self.pk and (self.care_teams.exists() or self.led_teams.exists()):
                errors["role"] = (
                    "A clinic admin cannot be in or lead a care team: take them off their teams "
                    "first."
                )
        if errors:
            raise ValidationError(errors)

    # Django compares this hash with the one stored in the session on every request; the
    # generation makes cached copies of ended sessions fail it (clinic.accounts.sessions).
    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret: str | bytes | None) -> str:
        material = self.password
        if self.session_generation:
            material = f"{self.password}\x00{self.session_generation}"
        return salted_hmac(
            _SESSION_HASH_SALT, material, secret=secret, algorithm="sha256"
        ).hexdigest()

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def is_neurologist(self) -> bool:
        return self.role == Role.NEUROLOGIST

    @property
    def is_nurse(self) -> bool:
        return self.role == Role.NURSE

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def role_label(self) -> str:
        if self.is_therapist and self.discipline:
            return f"{Discipline(self.discipline).label}"
        return Role(self.role).label if self.role else ""

    def landing_url(self) -> str:
        """Each role starts the day on its own page."""
        return reverse(LANDING_PAGES.get(self.role, "accounts:profile"))


LANDING_PAGES: dict[str, str] = {
    Role.NEUROLOGIST: "caseload:page",
    Role.NURSE: "treatments:worklist",
    Role.THERAPIST: "referrals:board",
    Role.ADMIN: "clinic:status",
}


class UserSession(models.Model):
    """Which sessions belong to which user, so sign-out and deactivation can end all of them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Session of user {self.user_id}"


class SignInFailure(models.Model):
    """One failed sign-in from one address: the per-address throttling counter
    (clinic.accounts.throttling). A successful sign-in deletes nothing here; rows older than the
    cool-off are pruned as new failures arrive."""

    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # address_failures() counts one address's recent rows on every sign-in attempt.
            models.Index(fields=["address", "at"], name="signin_failure_address_at"),
        ]

    def __str__(self) -> str:
        return f"Failed sign-in at {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A personal token for the read-only FHIR endpoint, so a program can read what its owner
    may read without a browser session (clinic.accounts.tokens).

    Only a SHA-256 digest of the secret is stored: the secret itself is shown once, when the
    token is created. A token expires, can be revoked, and stops working when its owner is
    deactivated or must change their password."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What the token is for.")
    prefix = models.CharField(
        max_length=16, help_text="The start of the secret, to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="api_token_expires_after_creation",
                condition=models.Q(expires_at__gt=models.F("created_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"API token {self.prefix}…"

    def is_usable_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and moment < self.expires_at
