"""aHSCT eligibility (§3.19) as data and a pure check. Never a gate: the transplant centre
decides; the findings are shown with the referral so the neurologist sees what the catalogue
says before referring. No Django imports."""

from __future__ import annotations

from dataclasses import dataclass

from .drugs.ahsct import ELIGIBILITY_NOTES


@dataclass(frozen=True, slots=True)
class EligibilityLimits:
    """The reference's "usual limits" (EBMT-2019; CK, verify): about 45-50 years, EDSS about
    5.5-6.0, disease duration up to 10 years. We take the upper end of each range, so a
    finding means "outside what centres usually accept", not "borderline"."""

    max_age_years: int = 50
    max_edss: float = 6.0
    max_disease_years: int = 10
    source: str = "EBMT-2019; CK (verify)"


LIMITS = EligibilityLimits()
RELAPSING = frozenset({"rrms", "cis"})
PROGRESSIVE = frozenset({"spms", "ppms"})


@dataclass(frozen=True, slots=True)
class Finding:
    text: str
    source: str


def eligibility_findings(
    *,
    age_years: int | None,
    edss: float | None,
    disease_years: float | None,
    course: str,
    limits: EligibilityLimits = LIMITS,
) -> list[Finding]:
    """Where the patient stands outside the catalogue's usual aHSCT criteria (empty: inside)."""
    found: list[Finding] = []
    if age_years is not None and age_years > limits.max_age_years:
        found.append(
            Finding(
                f"Age {age_years}: above the usual limit of about {limits.max_age_years}.",
                limits.source,
            )
        )
    if edss is not None and edss > limits.max_edss:
        found.append(
            Finding(
                f"EDSS {edss:g}: above the usual limit of about {limits.max_edss:g}.", limits.source
            )
        )
    if disease_years is not None and disease_years > limits.max_disease_years:
        found.append(
            Finding(
                f"Disease duration {disease_years:.0f} years: above the usual {limits.max_disease_years}.",
                limits.source,
            )
        )
    if course in PROGRESSIVE:
        found.append(
            Finding(
                "Progressive MS: a candidate only with clear inflammatory activity.", "EBMT-2019"
            )
        )
    elif course not in RELAPSING:
        found.append(Finding("No relapsing disease course recorded.", "EBMT-2019"))
    for key, value in (("age", age_years), ("EDSS", edss), ("diagnosis date", disease_years)):
        if value is None:
            found.append(Finding(f"No {key} recorded: the usual limit cannot be checked.", "CK"))
    return found


__all__ = ["ELIGIBILITY_NOTES", "LIMITS", "EligibilityLimits", "Finding", "eligibility_findings"]
