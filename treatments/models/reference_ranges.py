"""The clinic's default reference ranges: what a result is graded against when the reporting
lab gave no range of its own (§0.2 asks for the lab's range; flags must not depend on someone
typing it).

Versioned: a change is a new row with the day it takes effect, never an edit (a trigger refuses
UPDATE and DELETE), so the range a result was graded against stays on record and the result
points at it (`ResultValue.reference_range`). A *band* is one analyte for one sex ("any" for
both) and one age span; each band has its own chain of versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pgtrigger
from django.db import models
from django.db.models import F, Q

from clinic import limits
from treatments.protocols import investigation_name


class RangeSex(models.TextChoices):
    ANY = "any", "Any sex"
    FEMALE = "female", "Female"
    MALE = "male", "Male"


BandKey = tuple[str, str, int | None, int | None]


class ReferenceRangeQuerySet(models.QuerySet["ReferenceRange"]):
    def current(self, *, on: date) -> list[ReferenceRange]:
        """Each band's version in effect on `on` (else its earliest: a sample taken before the
        clinic set its defaults is graded against the first ones), sorted for display."""
        latest: dict[BandKey, ReferenceRange] = {}
        earliest: dict[BandKey, ReferenceRange] = {}
        for row in self.order_by("valid_from", "id"):
            earliest.setdefault(row.band, row)
            if row.valid_from <= on:
                latest[row.band] = row
        bands = {**earliest, **latest}
        return sorted(bands.values(), key=lambda r: r.sort_key)

    def for_patient(
        self, analyte: str, *, sex: str, age: int | None, on: date
    ) -> ReferenceRange | None:
        """The default for a value of `analyte` taken on `on` from a patient of this sex and
        age: the most specific band that applies (own sex before "any", an age span before
        all ages), in the version in effect on that day."""
        bands = [r for r in self.filter(analyte=analyte).current(on=on) if r.applies_to(sex, age)]
        return max(bands, key=lambda r: r.specificity, default=None)


class ReferenceRange(models.Model):
    analyte = models.CharField(max_length=40)
    sex = models.CharField(max_length=8, choices=RangeSex.choices, default=RangeSex.ANY)
    age_from_years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="From this age (inclusive); empty for no lower age."
    )
    age_to_years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Below this age; empty for no upper age."
    )
    low = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    high = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=24, help_text="The analyte's canonical unit.")
    source = models.CharField(max_length=200)
    note = models.TextField(
        blank=True, max_length=limits.NOTE, help_text="The choice made, and what to verify."
    )
    valid_from = models.DateField()
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the defaults shipped with Myelin.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReferenceRangeQuerySet.as_manager()

    class Meta:
        ordering = ["analyte", "sex", "age_from_years", "valid_from", "id"]
        indexes = [models.Index(fields=["analyte", "valid_from"], name="reference_range_lookup")]
        constraints = [
            models.CheckConstraint(
                name="reference_range_has_a_limit",
                condition=Q(low__isnull=False) | Q(high__isnull=False),
            ),
            models.CheckConstraint(
                name="reference_range_order",
                condition=Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lte=F("high")),
            ),
            models.CheckConstraint(
                name="reference_range_age_order",
                condition=Q(age_from_years__isnull=True)
                | Q(age_to_years__isnull=True)
                | Q(age_from_years__lt=F("age_to_years")),
            ),
        ]
        triggers = [
            # A version is never edited or removed: results point at the one they were graded
            # against. A change is a new row.
            pgtrigger.Protect(name="versions_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.band_label} from {self.valid_from:%Y-%m-%d}"

    @property
    def band(self) -> BandKey:
        return (self.analyte, self.sex, self.age_from_years, self.age_to_years)

    @property
    def sort_key(self) -> tuple[str, str, int, int]:
        return (self.analyte, self.sex, self.age_from_years or 0, self.age_to_years or 999)

    @property
    def specificity(self) -> tuple[int, int]:
        ages = (self.age_from_years is not None) + (self.age_to_years is not None)
        return (int(self.sex != RangeSex.ANY), ages)

    @property
    def analyte_name(self) -> str:
        return investigation_name(self.analyte)

    @property
    def band_label(self) -> str:
        sex = "" if self.sex == RangeSex.ANY else RangeSex(self.sex).label.lower()
        low, high = self.age_from_years, self.age_to_years
        if low is None and high is None:
            ages = ""
        elif high is None:
            ages = f"aged {low} and over"
        elif low is None:
            ages = f"under {high}"
        else:
            ages = f"aged {low} to {high - 1}"
        return ", ".join(p for p in (sex, ages) if p) or "everyone"

    @property
    def limits_display(self) -> str:
        return range_text(self.low, self.high, self.unit)

    def applies_to(self, sex: str, age: int | None) -> bool:
        """A patient whose sex is recorded as neither female nor male gets the "any" band,
        which the shipped defaults set to the narrower of the two (more flags, never fewer)."""
        if self.sex != RangeSex.ANY and self.sex != sex:
            return False
        if age is None:
            return self.age_from_years is None and self.age_to_years is None
        if self.age_from_years is not None and age < self.age_from_years:
            return False
        return self.age_to_years is None or age < self.age_to_years


def range_text(low: Decimal | None, high: Decimal | None, unit: str) -> str:
    """ "1–4 ×10⁹/L", "≤ 45 U/L" or "≥ 60 mL/min/1.73m²"; empty without limits."""
    if low is None and high is None:
        return ""
    if low is None:
        return f"≤ {_plain(high)} {unit}"
    if high is None:
        return f"≥ {_plain(low)} {unit}"
    return f"{_plain(low)}–{_plain(high)} {unit}"


def _plain(number: Decimal | None) -> str:
    return "" if number is None else format(number.normalize(), "f")


def versions_of(rows: Sequence[ReferenceRange], band: BandKey) -> list[ReferenceRange]:
    return sorted((r for r in rows if r.band == band), key=lambda r: (r.valid_from, r.pk or 0))
