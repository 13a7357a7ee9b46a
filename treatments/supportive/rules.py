"""Pure rules of the supportive care plan (no Django): screening score ranges, the vitamin D
unit, and where the catalogue's vitamin D test is found.

"§n" points to ``/work/shared/reference/dmt-monitoring.md``. The reference gives no vitamin D
target and no HADS cut-off, so Myelin grades neither: it shows the value, its date and the
supplementation, and leaves the judgement to the clinician. PHQ-9 has its published bands
(``treatments.outcomes.phq9_severity``, shared with the patient questionnaires).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from treatments.outcomes import phq9_severity

# 25-OH vitamin D, LOINC 62292-8 and 1989-3 (§11.1, "seen"). The supportive plan reads the
# latest result of a catalogue investigation with one of these codes, when the catalogue has
# one; until then the level is typed on the goal.
VITAMIN_D_LOINC = frozenset({"62292-8", "1989-3"})

# 1 ng/mL of 25-OH vitamin D is 2.496 nmol/L (molar mass 400.6 g/mol).
_NG_PER_ML_TO_NMOL_PER_L = Decimal("2.496")
VITAMIN_D_UNITS = {"nmol/L": Decimal(1), "ng/mL": _NG_PER_ML_TO_NMOL_PER_L}
# Not a clinical threshold: a bound on what a person's level can be, so that a value typed in
# the wrong unit or with a slipped decimal point is refused rather than stored.
VITAMIN_D_PLAUSIBLE_MAX_NMOL = Decimal(1000)


@dataclass(frozen=True)
class ScreeningScale:
    name: str
    items: int
    item_max: int
    source: str

    @property
    def maximum(self) -> int:
        return self.items * self.item_max


SCREENING_SCALES: dict[str, ScreeningScale] = {
    # Nine items scored 0-3 (Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001).
    "phq9": ScreeningScale("PHQ-9", 9, 3, "Kroenke 2001"),
    # Each HADS subscale: seven items scored 0-3 (Zigmond AS, Snaith RP. Acta Psychiatr Scand
    # 1983).
    "hads_a": ScreeningScale("HADS anxiety", 7, 3, "Zigmond & Snaith 1983"),
    "hads_d": ScreeningScale("HADS depression", 7, 3, "Zigmond & Snaith 1983"),
}


class RuleError(ValueError):
    """A value the rules refuse; the message is for the person who typed it."""


def check_screening_score(tool: str, score: int) -> None:
    scale = SCREENING_SCALES.get(tool)
    if scale is None:
        raise RuleError("Choose the screening questionnaire.")
    if not 0 <= score <= scale.maximum:
        raise RuleError(
            f"A {scale.name} score is from 0 to {scale.maximum} "
            f"({scale.items} items scored 0-{scale.item_max})."
        )


def screening_band(tool: str, score: int | None) -> str:
    """The published band of a score where the reference or the questionnaire module gives one
    (PHQ-9); empty otherwise."""
    if score is None or tool != "phq9":
        return ""
    return phq9_severity(score)


def vitamin_d_in_nmol(value: Decimal | str, unit: str) -> Decimal:
    """A 25-OH vitamin D level in nmol/L, from nmol/L or ng/mL, refused when implausible."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleError("Enter the level as a number.") from None
    if unit not in VITAMIN_D_UNITS:
        raise RuleError(f"Give the level in {' or '.join(VITAMIN_D_UNITS)}.")
    nmol = (number * VITAMIN_D_UNITS[unit]).quantize(Decimal("0.1"))
    if nmol <= 0:
        raise RuleError("A vitamin D level is above zero.")
    if nmol > VITAMIN_D_PLAUSIBLE_MAX_NMOL:
        raise RuleError(
            f"{number} {unit} is not a level a person has: check the unit (nmol/L or ng/mL)."
        )
    return nmol


def vitamin_d_investigation(investigations: dict[str, object]) -> str | None:
    """The key of the catalogue's 25-OH vitamin D investigation (by LOINC), or None when the
    catalogue has none. `investigations` is ``treatments.protocols.investigations
    .INVESTIGATIONS``."""
    for key, investigation in investigations.items():
        if getattr(investigation, "loinc", None) in VITAMIN_D_LOINC:
            return key
    return None
