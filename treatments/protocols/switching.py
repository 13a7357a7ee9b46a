"""Washout and bridging guidance when switching between DMTs (§5 of the reference).

No universal standard exists (§5): these defaults combine the labels, France4MS-2021, ABN-2024 and
switch studies, and are meant for a switching *warning*, not a block. ``min_days`` is the shortest
gap from the last dose of ``from_drug`` to the first dose of ``to_drug``; ``max_days`` (if set) is
the longest gap before rebound risk (natalizumab, fingolimod) outweighs the benefit of waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SwitchGroup(StrEnum):
    INJECTABLE_FIRST_LINE = "injectable_first_line"
    TERIFLUNOMIDE = "teriflunomide"
    FUMARATE = "fumarate"
    FINGOLIMOD = "fingolimod"
    SIPONIMOD = "siponimod"
    OZANIMOD = "ozanimod"
    PONESIMOD = "ponesimod"
    NATALIZUMAB = "natalizumab"
    ANTI_CD20 = "anti_cd20"
    ALEMTUZUMAB = "alemtuzumab"
    CLADRIBINE = "cladribine"
    MITOXANTRONE = "mitoxantrone"
    AHSCT = "ahsct"


DRUG_GROUPS: dict[str, SwitchGroup] = {
    "interferon_beta_1a_im": SwitchGroup.INJECTABLE_FIRST_LINE,
    "interferon_beta_1a_sc": SwitchGroup.INJECTABLE_FIRST_LINE,
    "peginterferon_beta_1a": SwitchGroup.INJECTABLE_FIRST_LINE,
    "interferon_beta_1b": SwitchGroup.INJECTABLE_FIRST_LINE,
    "glatiramer": SwitchGroup.INJECTABLE_FIRST_LINE,
    "teriflunomide": SwitchGroup.TERIFLUNOMIDE,
    "dimethyl_fumarate": SwitchGroup.FUMARATE,
    "diroximel_fumarate": SwitchGroup.FUMARATE,
    "monomethyl_fumarate": SwitchGroup.FUMARATE,
    "fingolimod": SwitchGroup.FINGOLIMOD,
    "siponimod": SwitchGroup.SIPONIMOD,
    "ozanimod": SwitchGroup.OZANIMOD,
    "ponesimod": SwitchGroup.PONESIMOD,
    "natalizumab_iv": SwitchGroup.NATALIZUMAB,
    "natalizumab_sc": SwitchGroup.NATALIZUMAB,
    "ocrelizumab_iv": SwitchGroup.ANTI_CD20,
    "ocrelizumab_sc": SwitchGroup.ANTI_CD20,
    "ofatumumab": SwitchGroup.ANTI_CD20,
    "ublituximab": SwitchGroup.ANTI_CD20,
    "rituximab": SwitchGroup.ANTI_CD20,
    "alemtuzumab": SwitchGroup.ALEMTUZUMAB,
    "cladribine": SwitchGroup.CLADRIBINE,
    "mitoxantrone": SwitchGroup.MITOXANTRONE,
    "ahsct": SwitchGroup.AHSCT,
}

# §5 "Second-line -> first-line" row: IFN/GA/teriflunomide/DMF count as first line.
_FIRST_LINE = frozenset(
    {SwitchGroup.INJECTABLE_FIRST_LINE, SwitchGroup.TERIFLUNOMIDE, SwitchGroup.FUMARATE}
)
# Drugs that deplete or sequester lymphocytes, before which lymphocytes must have recovered.
_CELL_DEPLETING = frozenset(
    {
        SwitchGroup.ANTI_CD20,
        SwitchGroup.NATALIZUMAB,
        SwitchGroup.CLADRIBINE,
        SwitchGroup.ALEMTUZUMAB,
    }
)


@dataclass(frozen=True, slots=True)
class WashoutGuidance:
    from_drug: str
    to_drug: str
    min_days: int
    max_days: int | None
    text: str
    checks: tuple[str, ...]
    source: str
    not_recommended: bool = False


def _group(drug_key: str) -> SwitchGroup:
    try:
        return DRUG_GROUPS[drug_key]
    except KeyError:
        raise LookupError(
            f"No switching guidance for unknown drug {drug_key!r}; known: {', '.join(sorted(DRUG_GROUPS))}"
        ) from None


def washout_guidance(from_drug: str, to_drug: str) -> WashoutGuidance:
    """Minimum (and for rebound-prone drugs, maximum) gap before starting ``to_drug``."""
    src, dst = _group(from_drug), _group(to_drug)
    to_first_line = dst in _FIRST_LINE

    def guidance(
        min_days: int,
        text: str,
        checks: tuple[str, ...],
        source: str,
        *,
        max_days: int | None = None,
        not_recommended: bool = False,
    ) -> WashoutGuidance:
        return WashoutGuidance(
            from_drug, to_drug, min_days, max_days, text, checks, source, not_recommended
        )

    if from_drug == to_drug:
        return guidance(0, "Same drug: no washout.", (), "CK")
    if dst == SwitchGroup.SIPONIMOD and src == SwitchGroup.ALEMTUZUMAB:
        return guidance(
            0,
            "Switching from alemtuzumab to siponimod is not recommended.",
            ("cbc",),
            "EU-SmPC §4.2 (siponimod)",
            not_recommended=True,
        )
    match src:
        case SwitchGroup.INJECTABLE_FIRST_LINE:
            return guidance(
                0,
                "No washout: the new drug can start the next day once its baseline work-up is done.",
                (),
                "France4MS-2021; EU-SmPC §4.2 (siponimod)",
            )
        case SwitchGroup.TERIFLUNOMIDE:
            return guidance(
                11,
                "Accelerated elimination first (cholestyramine 8 g every 8 h, or activated charcoal "
                "50 g every 12 h, for 11 days), or wait until plasma teriflunomide is < 0.02 mg/L.",
                ("lft", "cbc"),
                "US-PI §2; EU-SmPC §4.4; CK",
            )
        case SwitchGroup.FUMARATE:
            return guidance(
                0,
                "No fixed washout; wait for lymphocyte recovery (ALC >= 0.8 x10^9/L or >= LLN) if "
                "the count is low.",
                ("lymphocytes",),
                "France4MS-2021; CK",
            )
        case SwitchGroup.FINGOLIMOD:
            if to_first_line:
                return guidance(0, "No washout to a first-line drug.", (), "France4MS-2021")
            return guidance(
                28,
                "Short washout of about 4-8 weeks (French consensus: 1 month), balancing rebound "
                "against additive immunosuppression; check the lymphocyte count has recovered.",
                ("lymphocytes",),
                "France4MS-2021; CK",
                max_days=56,
            )
        case SwitchGroup.SIPONIMOD:
            return guidance(
                10,
                "About 10 days (lymphocytes recover within 10 days in most people).",
                ("lymphocytes",),
                "EU-SmPC §5.1; CK",
            )
        case SwitchGroup.PONESIMOD:
            return guidance(
                7,
                "About 1 week (lymphocytes recover within 1 week in 90%).",
                ("lymphocytes",),
                "US-PI §12; CK",
            )
        case SwitchGroup.OZANIMOD:
            # §5 says "up to 1-3 months"; median lymphocyte recovery is ~30 days (§3.8), so we
            # warn below 30 days and rely on the lymphocyte check for the rest.
            return guidance(
                30,
                "Up to 1-3 months, until lymphocytes recover (median about 30 days; 90% by 3 "
                "months).",
                ("lymphocytes",),
                "US-PI §12; CK",
            )
        case SwitchGroup.NATALIZUMAB:
            max_days = 28 if dst == SwitchGroup.FINGOLIMOD else 56
            return guidance(
                0,
                "Start the next DMT within 4-8 weeks (ideally <= 6 weeks; 4 weeks for fingolimod) "
                "to avoid rebound, which peaks 3-4 months after the last dose. JCV positive or "
                "high risk: MRI (± CSF JCV PCR) to exclude PML first, then MRI every 3-4 months "
                "for 12 months.",
                ("mri_brain", "jcv_antibody"),
                "Lit (Leurs 2018; Naegelin 2018; Jokubaitis 2014); MAGNIMS-2016",
                max_days=max_days,
            )
        case SwitchGroup.ANTI_CD20:
            return guidance(
                90,
                "About 3 months after the last dose; consider B-cell and IgG status.",
                ("immunoglobulins", "cbc"),
                "France4MS-2021 (verify)",
            )
        case SwitchGroup.MITOXANTRONE:
            if to_first_line:
                return guidance(
                    90, "About 3 months before a first-line drug.", ("cbc",), "France4MS-2021"
                )
            return guidance(
                182,
                "About 6 months before another second-line drug.",
                ("cbc", "echo_lvef"),
                "France4MS-2021",
            )
        case SwitchGroup.AHSCT:
            return guidance(
                0,
                "After a stem-cell transplant, another DMT only if disease activity returns, "
                "once immune reconstitution allows (lymphocytes, CD4), with the transplant centre.",
                ("lymphocytes", "cd4"),
                "EBMT-2019; CK",
            )
        case SwitchGroup.ALEMTUZUMAB | SwitchGroup.CLADRIBINE:
            return guidance(
                0,
                "Start another DMT only if there is disease activity, and only after lymphocyte "
                "recovery (± CD4 count).",
                ("lymphocytes", "cd4"),
                "France4MS-2021",
            )
    raise AssertionError(f"unhandled switch group {src}")  # pragma: no cover


def lymphocyte_recovery_needed(to_drug: str) -> bool:
    """Whether ``to_drug`` needs recovered lymphocytes before starting (§5, CK)."""
    return _group(to_drug) in _CELL_DEPLETING
