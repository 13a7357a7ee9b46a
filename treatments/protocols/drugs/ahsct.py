"""Autologous haematopoietic stem-cell transplantation (aHSCT, §3.19): the post-transplant
monitoring, counted from the day of the stem-cell reinfusion (day 0, the plan's "first dose").

aHSCT is a procedure done once in an accredited (JACIE) transplant centre, not a drug the MS
team prescribes: the protocol has no baseline checklist or dose gates of its own (the centre's
pre-transplant work-up is listed in the notes), and every duty survives a later "stop" of the
plan (the transplant cannot be undone; a DMT restarted for returning activity stops the plan).

Intervals: the reference gives EBMT-2019's items with "(verify intervals)". Our documented
choices (CK, to check against the EBMT-2019 full text and the centre's own protocol):
blood counts every 2 weeks for the first 3 months, then at months 6 and 9 and every 6 months;
CMV/EBV PCR weekly for 12 weeks; CD4 count at 3, 6, 9 and 12 months (PJP prophylaxis until
CD4 > 0.2 ×10⁹/L); liver and renal function at months 1, 3, 6 and yearly; TSH at months 3 and 6
then every 6 months for 5 years (secondary autoimmunity); re-vaccination visits at months 6, 12
and 24 (live vaccines only from 24 months and if immunocompetent); EDSS and MRI at 6 months,
then yearly.
"""

from __future__ import annotations

from ..schema import (
    Anchor,
    Comparator,
    DrugClass,
    EfficacyCategory,
    PeriodUnit,
    PregnancyUse,
    Protocol,
    Region,
    Route,
    Until,
)
from ._build import (
    ABS,
    CELLS,
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    LT,
    ULN,
    VERSION,
    WARNING,
    alert,
    alt_and_ast,
    pregnancy,
    rule,
)

DRUG_KEY = "ahsct"
SRC = "EBMT-2019"
SRC_CK = ("EBMT-2019", "CK")
_FIVE_YEARS = Until(Anchor.FIRST_DOSE, 60)
_VERIFY_INTERVALS = (
    "The reference gives this item without a fixed interval (EBMT-2019; CK, verify "
    "intervals): the interval here is our choice, documented in the module docstring."
)

# Eligibility as the catalogue states it (§3.19). Shown with the referral; never a gate: the
# transplant centre decides.
ELIGIBILITY_NOTES: tuple[tuple[str, str], ...] = (
    (
        "Highly active relapsing-remitting MS with relapses or MRI activity despite a "
        "high-efficacy DMT, or aggressive MS; progressive MS only with clear inflammatory "
        "activity.",
        "EBMT-2019",
    ),
    (
        "Usual limits: age up to about 45-50 years, EDSS up to about 5.5-6.0, shorter disease "
        "duration (up to 10 years).",
        "EBMT-2019; CK (verify)",
    ),
    ("An option for highly active MS in UK guidance (verify exact wording).", "ABN-2024"),
    (
        "Risks: transplant-related mortality about 0.2-1% in recent series; infections (CMV/EBV "
        "reactivation), infertility, secondary autoimmunity, early fever or neurological "
        "worsening.",
        "EBMT-2019",
    ),
)


def _protocol(region: Region) -> Protocol:
    return Protocol(
        drug_key=DRUG_KEY,
        drug_name="Autologous stem-cell transplantation (aHSCT)",
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.CELL_THERAPY,
        route=Route.INTRAVENOUS,
        schedule_text=(
            "Once, in an accredited (JACIE) transplant centre: mobilisation with cyclophosphamide "
            "(2-4 g/m²) and G-CSF, stem-cell collection, conditioning (BEAM + ATG, or "
            "cyclophosphamide 200 mg/kg + ATG), then reinfusion of the stem cells (day 0)."
        ),
        efficacy_category=EfficacyCategory.HIGH,
        sources=("EBMT-2019", "ABN-2024", "CK"),
        monitoring_rules=(
            rule(
                "cbc_early",
                "cbc",
                "Full blood count every 2 weeks for 3 months after the transplant",
                SRC_CK,
                unit=PeriodUnit.WEEKS,
                offsets=(2, 4, 6, 8, 10, 12),
                before=3,
                after=3,
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "cbc_late",
                "cbc",
                "Full blood count at months 6 and 9, then every 6 months (cytopenias, ITP)",
                SRC_CK,
                offsets=(6, 9),
                every=6,
                start=12,
                until=_FIVE_YEARS,
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "cmv_ebv_pcr",
                "cmv_ebv_pcr",
                "CMV and EBV PCR weekly for 12 weeks (viral reactivation)",
                SRC_CK,
                unit=PeriodUnit.WEEKS,
                offsets=tuple(range(1, 13)),
                before=2,
                after=2,
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "cd4",
                "cd4",
                "CD4 count at months 3, 6, 9 and 12 (PJP prophylaxis until CD4 > 0.2 ×10⁹/L)",
                SRC_CK,
                offsets=(3, 6, 9, 12),
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "lft",
                "lft",
                "Liver function at months 1, 3 and 6, then yearly",
                SRC_CK,
                offsets=(1, 3, 6),
                every=12,
                start=12,
                until=_FIVE_YEARS,
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "renal",
                "renal",
                "Renal function at months 1, 3 and 6, then yearly",
                SRC_CK,
                offsets=(1, 3, 6),
                every=12,
                start=12,
                until=_FIVE_YEARS,
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "tsh",
                "tsh",
                "TSH at months 3 and 6, then every 6 months for 5 years (secondary autoimmune "
                "thyroid disease)",
                SRC_CK,
                offsets=(3, 6),
                every=6,
                start=12,
                until=_FIVE_YEARS,
                survives_stop=True,
                verify=_VERIFY_INTERVALS,
            ),
            rule(
                "revaccination",
                "revaccination",
                "Re-vaccination from 6-12 months (non-live vaccines); live vaccines not before "
                "24 months and only if immunocompetent",
                SRC_CK,
                offsets=(6, 12, 24),
                before=30,
                after=60,
                survives_stop=True,
                verify=(
                    "The reference: re-vaccination from about 6-12 months, live vaccines at 24 "
                    "months or later if immunocompetent (EBMT-2019; CK, verify). One visit at "
                    "each of 6, 12 and 24 months; the centre's schedule decides the vaccines."
                ),
            ),
            rule(
                "edss",
                "neuro_review",
                "Neurology review with EDSS at 6 months, then yearly",
                SRC,
                offsets=(6,),
                every=12,
                start=12,
                before=28,
                after=28,
                survives_stop=True,
            ),
            rule(
                "mri",
                "mri_brain",
                "Brain MRI at 6 months, then yearly",
                SRC,
                offsets=(6,),
                every=12,
                start=12,
                before=30,
                after=30,
                survives_stop=True,
            ),
        ),
        alert_rules=(
            alert(
                "neutrophils_lt_1_0",
                "neutrophils",
                LT,
                1.0,
                ABS,
                CRITICAL,
                "Neutropenia after aHSCT: same-day review with the transplant centre (infection "
                "risk).",
                "EBMT-2019; CK",
                unit=CELLS,
                verify="Threshold is CTCAE-v5 grade 3 neutropenia (§0.4); our choice.",
            ),
            alert(
                "platelets_lt_100",
                "platelets",
                LT,
                100,
                ABS,
                WARNING,
                "Low platelets after aHSCT: consider secondary immune thrombocytopenia; discuss "
                "with the transplant centre.",
                "EBMT-2019; CK",
                unit=CELLS,
                verify="Threshold 100 ×10⁹/L is our choice (CTCAE-v5 grade 1/2 boundary is 75).",
            ),
            alert(
                "tsh_gt_uln",
                "tsh",
                GT,
                1,
                ULN,
                WARNING,
                "TSH above the upper limit: check free T4 and thyroid antibodies (secondary "
                "autoimmunity).",
                "EBMT-2019; CK",
            ),
            alert(
                "cd4_lt_0_2",
                "cd4",
                LT,
                0.2,
                ABS,
                WARNING,
                "CD4 below 0.2 ×10⁹/L: continue PJP prophylaxis (and antiviral prophylaxis).",
                "EBMT-2019; CK",
                unit=CELLS,
            ),
            alert(
                "cmv_ebv_detected",
                "cmv_ebv_pcr",
                Comparator.POSITIVE,
                None,
                ABS,
                CRITICAL,
                "CMV or EBV DNA detected: discuss pre-emptive treatment with the transplant "
                "centre the same day.",
                "EBMT-2019",
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    WARNING,
                    "Liver enzymes above 3 × ULN after aHSCT: look for a cause (drugs, viral "
                    "reactivation) with the transplant centre.",
                    "EBMT-2019; CK",
                    verify="3 × ULN is the catalogue's usual liver threshold (CTCAE-v5 grade 2); "
                    "the reference gives none for aHSCT.",
                )
            ),
        ),
        side_effects=(
            "Infections (CMV or EBV reactivation, bacterial, fungal)",
            "Secondary autoimmunity (thyroid disease, immune thrombocytopenia)",
            "Infertility and early menopause",
            "Early fever or transient neurological worsening",
            "Transplant-related death (about 0.2-1% in recent series)",
        ),
        visit_checks=(
            "Antiviral prophylaxis (aciclovir for about 1 year) and PJP prophylaxis until CD4 > "
            "0.2 ×10⁹/L; antifungal per centre (EBMT-2019; CK, verify)",
            "Fertility and gonadal function (EBMT-2019)",
            "Cancer screening per national programmes (EBMT-2019; CK)",
        ),
        switching_notes=(
            "Before the transplant: stop the current DMT with its own washout (§5) as the centre "
            "asks. After it: a DMT only if disease activity returns, once immune reconstitution "
            "allows (EBMT-2019; CK)."
        ),
        pregnancy=pregnancy(
            PregnancyUse.AVOID,
            "EBMT-2019",
            "Effective contraception from mobilisation until the transplant centre advises "
            "otherwise (at least the first year after the transplant)",
            verify="The reference lists a pregnancy test in the work-up and fertility "
            "counselling (EBMT-2019); the contraception period is our choice (CK, verify with "
            "the centre). A patient recorded as pregnant is refused.",
        ),
        pregnancy_notes=(
            "Pregnancy test before mobilisation and conditioning; fertility counselling and "
            "gamete storage before the transplant (EBMT-2019). Conception afterwards on the "
            "transplant centre's advice."
        ),
        notes=(
            *(f"Eligibility: {text} ({source})" for text, source in ELIGIBILITY_NOTES),
            "Pre-transplant work-up (done by the transplant centre): echocardiogram, lung "
            "function, renal and liver function, infection serology (HIV, HBV, HCV, CMV, EBV, "
            "VZV, syphilis, TB), fertility counselling and gamete storage, dental review, "
            "pregnancy test, DMT washout per drug (EBMT-2019; CK).",
            "Monitoring counts from the day of the stem-cell reinfusion (day 0). Daily blood "
            "counts during aplasia are the transplant centre's, not listed here.",
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
