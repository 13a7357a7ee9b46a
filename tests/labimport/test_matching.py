"""Reading reference ranges and grouping values into results (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from treatments.labimport.matching import _group, parse_range


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7-56", (Decimal("7"), Decimal("56"))),
        ("3.5 - 5.0", (Decimal("3.5"), Decimal("5.0"))),
        ("<5", (None, Decimal("5"))),
        ("<=0.4", (None, Decimal("0.4"))),
        (">60", (Decimal("60"), None)),
        ("", (None, None)),
    ],
)
def test_reference_ranges_in_the_forms_labs_send(text: str, expected: tuple) -> None:
    assert parse_range(text) == expected


def test_an_unreadable_range_is_refused() -> None:
    with pytest.raises(ValueError, match="normal"):
        parse_range("normal")


def test_values_are_recorded_under_the_orders_panel_or_the_smallest_that_holds_them() -> None:
    assert _group({"alt", "ast"}, "lft") == [("lft", {"alt", "ast"})]
    assert _group({"alt"}, None) == [("alt", {"alt"})]
    assert _group({"alt", "bilirubin"}, "LOCAL") == [("lft", {"alt", "bilirubin"})]
    # No panel holds ALT and creatinine together: each goes with its own panel.
    assert _group({"alt", "creatinine"}, None) == [
        ("lft", {"alt"}),
        ("renal", {"creatinine"}),
    ]
