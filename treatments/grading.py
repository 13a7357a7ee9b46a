"""Grading of numeric lab values: multiples of the ULN, CTCAE v5 grades and Hy's law.

Pure functions over canonical values (see `treatments.labs` for units); the one place
a stored value is graded is `ResultValue.graded_ctcae`, which calls `ctcae_grade` here."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from treatments.labs import MissingReferenceLimit, get_analyte

_d = Decimal

# --- xULN and CTCAE -------------------------------------------------------------------------


def times_uln(value: Decimal, uln: Decimal | None) -> Decimal:
    """``value / ULN``, both in the same unit (§0.2: the reporting lab's own ULN)."""
    if uln is None:
        raise MissingReferenceLimit("The upper limit of normal (ULN) is missing.")
    if uln <= 0:
        raise MissingReferenceLimit(f"The upper limit of normal must be positive, not {uln}.")
    return value / uln


# CTCAE v5 "count decreased" terms: a value strictly below each cut-off earns grade 2, 3, 4.
# Lymphocytes, neutrophils and platelets are §0.4; WBC ("White blood cell decreased") and
# haemoglobin ("Anemia", whose grade 4 is clinical, not a number) are CTCAE v5 rows that are
# not in §0.4.
_DECREASED_CUTOFFS: Mapping[str, tuple[Decimal | None, ...]] = MappingProxyType(
    {
        "lymphocytes": (_d("0.8"), _d("0.5"), _d("0.2")),
        "neutrophils": (_d("1.5"), _d("1.0"), _d("0.5")),
        "platelets": (_d("75"), _d("50"), _d("25")),
        "wbc": (_d("3.0"), _d("2.0"), _d("1.0")),
        "haemoglobin": (_d("100"), _d("80"), None),
    }
)

# CTCAE v5 "increased" terms, as multiples strictly above which grades 1-4 start.
# ALT/AST and bilirubin "x ULN" rows are §0.4 (normal baseline); the "x baseline" rows used when
# the baseline was above ULN are CTCAE v5 and not in §0.4. ALT/AST grade 1 on an abnormal
# baseline is "1.5-3.0 x baseline", inclusive of 1.5, so a rise below 1.5x is grade 0.
_ALT_AST_ULN = (_d("1"), _d("3"), _d("5"), _d("20"))
_ALT_AST_BASELINE = (_d("1.5"), _d("3"), _d("5"), _d("20"))
_BILIRUBIN_ULN = (_d("1"), _d("1.5"), _d("3"), _d("10"))
_BILIRUBIN_BASELINE = (_d("1"), _d("1.5"), _d("3"), _d("10"))
_CREATININE_ULN = (_d("1"), _d("1.5"), _d("3"), _d("6"))
# analyte -> (x ULN starts, x baseline starts, is the x baseline grade-1 start inclusive)
_INCREASED: Mapping[str, tuple[tuple[Decimal, ...], tuple[Decimal, ...], bool]] = MappingProxyType(
    {
        "alt": (_ALT_AST_ULN, _ALT_AST_BASELINE, True),
        "ast": (_ALT_AST_ULN, _ALT_AST_BASELINE, True),
        "bilirubin": (_BILIRUBIN_ULN, _BILIRUBIN_BASELINE, False),
    }
)

CTCAE_GRADED_ANALYTES: frozenset[str] = frozenset({*_DECREASED_CUTOFFS, *_INCREASED, "creatinine"})


def _grade_above(ratio: Decimal, starts: tuple[Decimal, ...], *, first_inclusive: bool) -> int:
    grade = 0
    for number, start in enumerate(starts, start=1):
        reached = ratio >= start if (number == 1 and first_inclusive) else ratio > start
        if reached:
            grade = number
    return grade


def _grade_decreased(analyte: str, value: Decimal, lln: Decimal | None) -> int:
    for grade, cutoff in zip((4, 3, 2), reversed(_DECREASED_CUTOFFS[analyte]), strict=True):
        if cutoff is not None and value < cutoff:
            return grade
    # Only grade 1 versus 0 depends on the lab's LLN; bands 2-4 are absolute.
    if lln is None:
        raise MissingReferenceLimit(
            f"The lower limit of normal (LLN) is needed to grade {analyte} {value}."
        )
    return 1 if value < lln else 0


def _positive_baseline(baseline: Decimal) -> Decimal:
    if baseline <= 0:
        raise MissingReferenceLimit(f"A baseline must be positive, not {baseline}.")
    return baseline


def ctcae_grade(
    analyte: str,
    value: Decimal,
    *,
    lln: Decimal | None,
    uln: Decimal | None,
    baseline: Decimal | None = None,
) -> int | None:
    """CTCAE v5 grade (0 = not an adverse grade, 1-4) of a canonical-unit value, per §0.4.

    Returns ``None`` for analytes without a CTCAE rule here (see :data:`CTCAE_GRADED_ANALYTES`).
    ``value``, ``lln``, ``uln`` and ``baseline`` must all be in the canonical unit.

    * Counts and haemoglobin are graded for "decreased" only (a high count is 0). Bands 2-4 are
      absolute cut-offs, as CTCAE writes them, so a value under 0.8 x10⁹/L lymphocytes is grade 2
      even if the lab's LLN is lower; LLN is only needed to tell grade 1 from 0.
    * ALT/AST and bilirubin use x ULN when the baseline is normal or unknown and x baseline when
      ``baseline`` is above ULN (CTCAE v5, not in §0.4).
    * Creatinine takes the higher of the x ULN grade and the x baseline grade (§0.4: grade 2
      ">1.5-3 x baseline", grade 3 "> 3 x baseline"); grade 1 and 4 are x ULN only.
    """
    if analyte in _DECREASED_CUTOFFS:
        return _grade_decreased(analyte, value, lln)
    if analyte in _INCREASED:
        uln_starts, baseline_starts, baseline_first_inclusive = _INCREASED[analyte]
        ratio_uln = times_uln(value, uln)
        if baseline is not None and uln is not None and baseline > uln:
            return _grade_above(
                value / baseline, baseline_starts, first_inclusive=baseline_first_inclusive
            )
        return _grade_above(ratio_uln, uln_starts, first_inclusive=False)
    if analyte == "creatinine":
        grade = _grade_above(times_uln(value, uln), _CREATININE_ULN, first_inclusive=False)
        if baseline is not None:
            ratio = value / _positive_baseline(baseline)
            grade = max(grade, 3 if ratio > 3 else 2 if ratio > Decimal("1.5") else 0)
        return grade
    get_analyte(analyte)  # an unknown key is an error, a known ungraded one is None
    return None


# --- Hy's law -------------------------------------------------------------------------------

HYS_LAW_ALT_X_ULN = Decimal("3")
HYS_LAW_BILIRUBIN_X_ULN = Decimal("2")


def is_hys_law(alt_x_uln: Decimal, bilirubin_x_uln: Decimal) -> bool:
    """Hy's law pattern (§0.4): an aminotransferase (ALT **or** AST, FDA DILI guidance 2009;
    pass either one's multiple of its ULN) > 3 x ULN **and** total bilirubin > 2 x ULN.

    Always CRITICAL whatever the drug (§0.3/§0.4). "Without another cause" is the
    clinician's judgement, so the pattern alone raises the alert.
    """
    return alt_x_uln > HYS_LAW_ALT_X_ULN and bilirubin_x_uln > HYS_LAW_BILIRUBIN_X_ULN


def hys_law_from_values(
    *,
    alt: Decimal,
    alt_uln: Decimal | None,
    bilirubin: Decimal,
    bilirubin_uln: Decimal | None,
) -> bool:
    """:func:`is_hys_law` from raw values and each lab's ULN (same unit as its value)."""
    return is_hys_law(times_uln(alt, alt_uln), times_uln(bilirubin, bilirubin_uln))
