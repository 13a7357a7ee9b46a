"""Corrections, the clinical way: a record is amended or marked entered in error, never deleted.

Every clinical record (course state, EDSS, relapse, MRI, referral note; in treatments: result,
side-effect report, dose, symptomatic treatment, rehab session) inherits `Correctable`:

* **Amended**: a new row holds the corrected record and points to the one it replaces
  (`amends`); the original keeps its values and is marked `amended`, with who, when and why.
  A new row rather than an edit in place, so the original stays readable as it was, in the same
  table, and everything that points to it (an audit entry, an alert's `raised_by_id`) still
  finds what was seen at the time.
* **Entered in error**: the row is marked `entered_in_error`, with who, when and why. It stays,
  shown struck through.

Both are one-way and final for the row (a row is corrected once; an amendment can itself be
amended). `standing()` is what every reader of clinical facts uses: the rows that are neither
amended nor entered in error. The workflow (locking, permission, audit, recomputation) is in
`patients.corrections.engine`; each record type says how it is rebuilt and what it derives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import Q

from clinic.permissions import Perm, may
from patients.models.scoping import PatientOwnedQuerySet

if TYPE_CHECKING:
    from clinic.accounts.models import User

REASON_MAX_LENGTH = 500


class Correction(models.TextChoices):
    AMENDED = "amended", "Amended"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class CorrectableQuerySet[M: models.Model](models.QuerySet[M]):
    def standing(self) -> Self:
        """Rows that stand: neither amended (replaced by a newer row) nor entered in error."""
        return self.filter(correction="")

    def corrected(self) -> Self:
        return self.exclude(correction="")


class PatientCorrectableQuerySet[M: models.Model](PatientOwnedQuerySet[M]):
    """For patient-owned records: scoping (`visible_to`) and `standing()` (the same two
    methods as CorrectableQuerySet: one base class each keeps the managers' types simple)."""

    def standing(self) -> Self:
        return self.filter(correction="")

    def corrected(self) -> Self:
        return self.exclude(correction="")


class Correctable(models.Model):
    """The fields and rules every correctable clinical record shares (see the module)."""

    correction = models.CharField(
        max_length=16, choices=Correction.choices, blank=True, default="", db_default=""
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    # Null only for a correction made by a migration (its reason says so), never by a person.
    corrected_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    correction_reason = models.CharField(
        max_length=REASON_MAX_LENGTH, blank=True, default="", db_default=""
    )
    amends = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendment",
        help_text="The record this one corrects (which is kept, marked amended).",
    )

    # The field naming who recorded the row: its author may correct it (Perm.RECORD_AMEND_OWN).
    author_field: ClassVar[str] = "recorded_by"

    class Meta:
        abstract = True

    @property
    def author_id(self) -> int | None:
        return getattr(self, f"{self.author_field}_id", None)

    @property
    def is_standing(self) -> bool:
        return not self.correction

    @property
    def is_amended(self) -> bool:
        return self.correction == Correction.AMENDED

    @property
    def is_entered_in_error(self) -> bool:
        return self.correction == Correction.ENTERED_IN_ERROR

    def may_be_corrected_by(self, user: Any) -> bool:
        """Its author, or anyone who may correct any record of their care teams (the patient's
        scope is checked by the view that found the row)."""
        if may(user, Perm.RECORD_AMEND_ANY):
            return True
        return may(user, Perm.RECORD_AMEND_OWN) and self.author_id == getattr(user, "pk", None)

    def correction_refusal(self, user: User) -> str | None:
        """Why `user` may not correct this row now, or None."""
        if self.correction:
            return f"This record was already {self.get_correction_display().lower()}."  # type: ignore[attr-defined]
        if not self.may_be_corrected_by(user):
            return (
                "Only the person who recorded it, or a neurologist of the patient's care team, "
                "may amend this record or mark it entered in error."
            )
        return None


def link_amendments[R: Sequence[Any]](rows: R) -> R:
    """For display: give each row that amends another row of `rows` an `amended_from` (the
    original, with who amended it, when and why). Returns `rows`."""
    by_pk = {row.pk: row for row in rows}
    for row in rows:
        original = by_pk.get(row.amends_id)  # type: ignore[attr-defined]
        if original is not None:
            row.amended_from = original
    return rows


def correction_constraints(prefix: str) -> list[models.BaseConstraint]:
    """The database's share of the rules, for each model's Meta.constraints: a corrected row has
    a kind, a time and a reason; a standing row has none of them; no row amends itself."""
    return [
        models.CheckConstraint(
            name=f"{prefix}_correction_complete",
            condition=Q(
                correction="",
                corrected_at__isnull=True,
                corrected_by__isnull=True,
                correction_reason="",
            )
            | (
                Q(correction__in=Correction.values, corrected_at__isnull=False)
                & ~Q(correction_reason="")
            ),
            violation_error_message="A correction needs its kind, its time and a reason.",
        ),
        models.CheckConstraint(
            name=f"{prefix}_amends_another",
            condition=Q(amends__isnull=True) | ~Q(amends=models.F("pk")),
            violation_error_message="A record cannot amend itself.",
        ),
    ]
