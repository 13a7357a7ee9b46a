"""Doses by body-surface area (pure): the Mosteller BSA and what is refused as a typing error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from treatments.dosing import DoseError, bsa_dose, mosteller_bsa


def test_mosteller_bsa_of_an_average_adult() -> None:
    # √(170 × 70 / 3600) = 1.818…
    assert mosteller_bsa(Decimal("170"), Decimal("70")) == Decimal("1.82")


def test_a_dose_from_height_and_weight_gets_its_bsa() -> None:
    dose = bsa_dose(mg_m2=Decimal("12"), height_cm=Decimal("160"), weight_kg=Decimal("58"))
    assert dose.bsa_m2 == Decimal("1.61")
    assert dose.total_mg == Decimal("19.3")


def test_a_dose_with_the_bsa_alone_keeps_it() -> None:
    assert bsa_dose(mg_m2=Decimal("12"), bsa_m2=Decimal("1.75")).bsa_m2 == Decimal("1.75")


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"mg_m2": None, "bsa_m2": Decimal("1.8")}, "dose_mg_m2"),
        ({"mg_m2": Decimal("24"), "bsa_m2": Decimal("1.8")}, "dose_mg_m2"),  # mg typed as mg/m²
        ({"mg_m2": Decimal("12")}, "bsa_m2"),
        ({"mg_m2": Decimal("12"), "height_cm": Decimal("170")}, "weight_kg"),
        ({"mg_m2": Decimal("12"), "weight_kg": Decimal("70")}, "height_cm"),
        (
            {"mg_m2": Decimal("12"), "height_cm": Decimal("1.7"), "weight_kg": Decimal("70")},
            "height_cm",
        ),
        ({"mg_m2": Decimal("12"), "bsa_m2": Decimal("18")}, "bsa_m2"),
        (
            {
                "mg_m2": Decimal("12"),
                "height_cm": Decimal("170"),
                "weight_kg": Decimal("70"),
                "bsa_m2": Decimal("2.1"),
            },
            "bsa_m2",
        ),
    ],
)
def test_a_dose_entry_that_cannot_be_right_is_refused_at_its_field(
    entry: dict[str, Decimal | None], field: str
) -> None:
    with pytest.raises(DoseError) as refused:
        bsa_dose(**entry)
    assert refused.value.field == field


def test_a_heavy_but_possible_patient_is_not_refused() -> None:
    dose = bsa_dose(mg_m2=Decimal("12"), height_cm=Decimal("170"), weight_kg=Decimal("154"))
    assert dose.bsa_m2 == Decimal("2.70")
