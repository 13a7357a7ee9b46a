"""Hy's law: ALT or AST > 3×ULN and total bilirubin > 2×ULN the same day, CRITICAL whatever
the drug (§0.4 of the monitoring reference, corrected 2026-11: the FDA DILI guidance defines
it on ALT *or* AST; the general protocol carries the rule and its source)."""

from __future__ import annotations

from treatments import grading
from treatments.alerts.services import AlertSpec
from treatments.models import AlertGrade, AlertKind, Result
from treatments.protocols import investigation_name
from treatments.safety.rules import RESULT_TYPE, History

HYS_LAW_SOURCE = "FDA DILI guidance 2009; CK; CTCAE-v5; fingolimod DHPC-2020 (§0.4)"
HYS_LAW_ENZYMES = ("alt", "ast")


def hys_law_spec(*, result: Result, history: History) -> AlertSpec | None:
    """ALT or AST > 3×ULN and bilirubin > 2×ULN taken the same day, whatever the drug (§0.4,
    corrected 2026-11: the FDA DILI guidance defines it on ALT *or* AST). One alert per patient
    and day, naming every enzyme that meets it."""
    day = result.taken_on
    bilirubin = history.same_day("bilirubin", day)
    if bilirubin is None or bilirubin.value is None or not bilirubin.uln:
        return None
    enzymes = []
    for analyte in HYS_LAW_ENZYMES:
        enzyme = history.same_day(analyte, day)
        if enzyme is None or enzyme.value is None or not enzyme.uln:
            continue
        if grading.hys_law_from_values(
            alt=enzyme.value,
            alt_uln=enzyme.uln,
            bilirubin=bilirubin.value,
            bilirubin_uln=bilirubin.uln,
        ):
            enzymes.append(enzyme)
    if not enzymes:
        return None
    names = " and ".join(investigation_name(e.analyte) for e in enzymes)
    shown = " and ".join(f"{investigation_name(e.analyte)} {e.display}" for e in enzymes)
    grades = [e.row.ctcae_grade for e in enzymes if e.row and e.row.ctcae_grade]
    return AlertSpec(
        patient_id=result.patient_id,
        kind=AlertKind.ABNORMAL_RESULT,
        grade=AlertGrade.CRITICAL,
        condition_key=f"hys_law:patient:{result.patient_id}:on:{day:%Y-%m-%d}",
        title=f"Hy's law pattern: {shown} and bilirubin {bilirubin.display}",
        detail=(
            f"{names} > 3×ULN and total bilirubin > 2×ULN on {day:%d %b %Y}: possible severe "
            "drug-induced liver injury, whatever the drug."
        ),
        action="Same-day review: stop or withhold hepatotoxic drugs, exclude other causes, "
        "repeat liver tests with INR.",
        source=HYS_LAW_SOURCE,
        raised_by_type=RESULT_TYPE,
        raised_by_id=str(result.pk),
        ctcae_grade=max(grades) if grades else None,
    )
