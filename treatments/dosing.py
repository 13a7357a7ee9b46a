"""Doses by body-surface area: the Mosteller BSA and the plausibility of what is typed in.

Pure functions over ``Decimal``; no Django. The limits here are typing guards (a height in
metres, a weight in pounds, a total dose in mg typed as mg/m²), not clinical rules: the usual
dose and the lifetime cap are the catalogue's (``Protocol.bsa_dosing``, §3.17).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HEIGHT_CM = (Decimal("100"), Decimal("230"))
WEIGHT_KG = (Decimal("25"), Decimal("250"))
BSA_M2 = (Decimal("0.8"), Decimal("3.0"))
DOSE_MG_M2 = (Decimal("1"), Decimal("20"))
# A BSA typed next to a height and weight may differ from Mosteller's by rounding or another
# formula (Du Bois); more than this is a typing error.
BSA_TOLERANCE = Decimal("0.1")

_TWO_PLACES = Decimal("0.01")


class DoseError(ValueError):
    """A dose entry that cannot be right; `field` names the input it belongs to."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def mosteller_bsa(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    """Body-surface area in m²: √(height cm × weight kg / 3600), to two decimals."""
    return ((height_cm * weight_kg / Decimal(3600)).sqrt()).quantize(_TWO_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class BsaDose:
    """A dose in mg/m² with the body-surface area it was calculated on."""

    mg_m2: Decimal
    bsa_m2: Decimal
    height_cm: Decimal | None = None
    weight_kg: Decimal | None = None

    @property
    def total_mg(self) -> Decimal:
        return (self.mg_m2 * self.bsa_m2).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _within(value: Decimal, bounds: tuple[Decimal, Decimal], field: str, what: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise DoseError(f"{what} must be between {low} and {high}.", field=field)


def bsa_dose(
    *,
    mg_m2: Decimal | None,
    height_cm: Decimal | None = None,
    weight_kg: Decimal | None = None,
    bsa_m2: Decimal | None = None,
) -> BsaDose:
    """Check a dose entry and return it with its BSA: from height and weight (Mosteller), or as
    given. Raises `DoseError` naming the field that is wrong."""
    if mg_m2 is None:
        raise DoseError("Give the dose in mg/m².", field="dose_mg_m2")
    _within(mg_m2, DOSE_MG_M2, "dose_mg_m2", "The dose in mg/m²")
    if (height_cm is None) != (weight_kg is None):
        missing = "weight_kg" if weight_kg is None else "height_cm"
        raise DoseError("Give both height and weight, or the BSA alone.", field=missing)
    if height_cm is not None and weight_kg is not None:
        _within(height_cm, HEIGHT_CM, "height_cm", "Height in cm")
        _within(weight_kg, WEIGHT_KG, "weight_kg", "Weight in kg")
        calculated = mosteller_bsa(height_cm, weight_kg)
        if bsa_m2 is not None and abs(bsa_m2 - calculated) > BSA_TOLERANCE:
            raise DoseError(
                f"The BSA does not match the height and weight (Mosteller gives {calculated} "
                "m²): correct one of them, or leave the BSA empty.",
                field="bsa_m2",
            )
        bsa_m2 = calculated
    if bsa_m2 is None:
        raise DoseError("Give height and weight, or the BSA.", field="bsa_m2")
    _within(bsa_m2, BSA_M2, "bsa_m2", "The BSA in m²")
    return BsaDose(mg_m2=mg_m2, bsa_m2=bsa_m2, height_cm=height_cm, weight_kg=weight_kg)


@dataclass(frozen=True)
class DoseEntry:
    """A dose as typed in, not yet checked: the dose and either height and weight or the BSA."""

    mg_m2: Decimal | None
    height_cm: Decimal | None = None
    weight_kg: Decimal | None = None
    bsa_m2: Decimal | None = None

    def checked(self) -> BsaDose:
        return bsa_dose(
            mg_m2=self.mg_m2,
            height_cm=self.height_cm,
            weight_kg=self.weight_kg,
            bsa_m2=self.bsa_m2,
        )
