"""Fumarates (§3.4, §3.5): dimethyl, diroximel and monomethyl fumarate.

DRF and MMF share DMF's active metabolite and its baseline, monitoring and lymphocyte rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import (
    Applies,
    BaselineCheck,
    Criterion,
    DoseGate,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    MonitoringRule,
    Protocol,
    Region,
    Route,
)
from ._build import (
    ABS,
    AVOID,
    CELLS,
    CRITICAL,
    EFFECTIVE_FROM,
    GE,
    GT,
    LLN,
    LT,
    SIX_MONTHS_DAYS,
    THREE_MONTHS_DAYS,
    ULN,
    VERSION,
    WARNING,
    alert,
    alt_and_ast,
    check,
    event_alert,
    gate,
    pml_symptoms_alert,
    pregnancy,
    rule,
)

_SHORTER = "'every 6-12 months': we take the shorter interval, 6 months."


@dataclass(frozen=True)
class _Fumarate:
    key: str
    name: str
    brands: tuple[str, ...]
    schedule: str
    atc: str
    atc_verified: bool
    atc_former: str = ""
    extra_baseline: tuple[BaselineCheck, ...] = ()
    eu_authorised: bool = True
    notes: tuple[str, ...] = ()


_PRODUCTS = (
    _Fumarate(
        "dimethyl_fumarate",
        "Dimethyl fumarate",
        ("Tecfidera",),
        "120 mg twice daily for 7 days, then 240 mg twice daily.",
        "L04AX07",
        True,
        atc_former="N07XX09",
    ),
    _Fumarate(
        "diroximel_fumarate",
        "Diroximel fumarate",
        ("Vumerity",),
        "231 mg twice daily for 7 days, then 462 mg (2 × 231 mg) twice daily.",
        "L04AX09",
        False,
        extra_baseline=(
            check(
                "renal",
                True,
                "US-PI §2",
                note="Not recommended in moderate-severe renal impairment: include eGFR.",
            ),
        ),
        notes=("Do not combine with dimethyl or monomethyl fumarate.",),
    ),
    _Fumarate(
        "monomethyl_fumarate",
        "Monomethyl fumarate",
        ("Bafiertam",),
        "95 mg twice daily for 7 days, then 190 mg (2 × 95 mg) twice daily.",
        "",
        False,
        eu_authorised=False,
        notes=("Do not combine with dimethyl or diroximel fumarate.",),
    ),
)


def _rules(region: Region) -> tuple[MonitoringRule, ...]:
    if region == Region.US:
        return (
            rule(
                "cbc",
                "cbc",
                "Blood count with lymphocytes 6 months after starting, then every 6 months",
                "US-PI §5",
                offsets=(6,),
                every=6,
                verify=_SHORTER,
            ),
        )
    return (
        rule(
            "cbc",
            "cbc",
            "Blood count with lymphocytes every 3 months",
            "EU-SmPC §4.4",
            every=3,
            start=3,
        ),
        rule(
            "renal",
            "renal",
            "Creatinine at 3 and 6 months, then every 6 months",
            "EU-SmPC §4.4",
            offsets=(3, 6),
            every=6,
            verify=_SHORTER,
        ),
        rule(
            "urinalysis",
            "urinalysis",
            "Urinalysis at 3 and 6 months, then every 6 months",
            "EU-SmPC §4.4",
            offsets=(3, 6),
            every=6,
            verify=_SHORTER,
        ),
        rule(
            "lft",
            "lft",
            "ALT/AST at 3 and 6 months, then every 6 months",
            "EU-SmPC §4.4",
            offsets=(3, 6),
            every=6,
            verify=_SHORTER,
        ),
    )


def _protocol(product: _Fumarate, region: Region) -> Protocol:
    us = region == Region.US
    baseline = (
        [
            check("cbc", True, "US-PI §5", within_days=SIX_MONTHS_DAYS, note="With lymphocytes."),
            check("lft", True, "US-PI §2", note="Aminotransferases, ALP, total bilirubin."),
        ]
        if us
        else [
            check("cbc", True, "EU-SmPC §4.4", note="With lymphocytes."),
            check("lft", True, "EU-SmPC §4.4"),
            check("renal", True, "EU-SmPC §4.4"),
            check("urinalysis", True, "EU-SmPC §4.4"),
            check(
                "mri_brain",
                True,
                "EU-SmPC §4.4",
                within_days=THREE_MONTHS_DAYS,
                note="Reference MRI, usually within 3 months.",
            ),
        ]
    )
    baseline += [
        c
        for c in product.extra_baseline
        if c.investigation not in {b.investigation for b in baseline}
    ]
    notes = product.notes
    if not us and not product.eu_authorised:
        notes += (
            "Not authorised in the EU (verify). Kept so patients treated elsewhere can be "
            "monitored; the EU dimethyl fumarate rules apply (same active metabolite).",
        )
    gates: tuple[DoseGate, ...] = ()
    if not us:
        gates = (
            gate(
                "cbc",
                GE,
                GateEvent.FIRST_DOSE,
                "Lymphocytes ≥ 0.5 ×10⁹/L before starting (find the cause if below normal)",
                "EU-SmPC §4.4",
                analyte="lymphocytes",
                threshold=0.5,
                unit=CELLS,
            ),
        )
    # §3.4/§3.5: a count below the lab's LLN before starting is investigated; below 0.5 the
    # drug is not started (the EU dose gate). Graded WARNING, not GATE: the gate blocks the start,
    # this rule asks for the cause, so one low count raises the question even above 0.5.
    baseline_lymphocytes = alert(
        "lymphocytes_lt_lln_baseline",
        "lymphocytes",
        LT,
        1,
        LLN,
        WARNING,
        "Before starting: investigate the cause of the low count"
        + ("; do not start if < 0.5 ×10⁹/L." if not us else "."),
        "EU-SmPC §4.4" if not us else "EU-SmPC §4.4; CK",
        applies=Applies.BEFORE_FIRST_DOSE,
        verify=""
        if not us
        else "The US label asks for a count before starting without this rule; the EU rule is "
        "applied in both regions (same active metabolite, same lymphopenia risk).",
    )
    lymph_action = "Interrupt treatment." if not us else "Consider interrupting treatment."
    return Protocol(
        drug_key=product.key,
        drug_name=product.name,
        brands=product.brands,
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.FUMARATE,
        route=Route.ORAL,
        schedule_text=product.schedule,
        efficacy_category=EfficacyCategory.MODERATE,
        atc_current=product.atc,
        atc_former=product.atc_former,
        atc_verified=product.atc_verified,
        sources=("US-PI" if us else "EU-SmPC", "CK", "France4MS-2021"),
        baseline_checks=tuple(baseline),
        monitoring_rules=_rules(region),
        dose_gates=gates,
        alert_rules=(
            alert(
                "lymphocytes_lt_0_5_6m",
                "lymphocytes",
                LT,
                0.5,
                ABS,
                CRITICAL,
                lymph_action,
                "EU-SmPC §4.4; US-PI §5",
                unit=CELLS,
                persistence="> 6 months",
                persistence_days=SIX_MONTHS_DAYS,
            ),
            alert(
                "lymphocytes_lt_0_5",
                "lymphocytes",
                LT,
                0.5,
                ABS,
                WARNING,
                "Repeat within 1-3 months; the 6-month clock starts.",
                "CK",
                unit=CELLS,
            ),
            alert(
                "lymphocytes_0_5_0_8_6m",
                "lymphocytes",
                LT,
                0.8,
                ABS,
                WARNING,
                "Reassess benefit and risk.",
                "EU-SmPC §4.4",
                unit=CELLS,
                persistence="> 6 months",
                persistence_days=SIX_MONTHS_DAYS,
                also=(Criterion("lymphocytes", GE, 0.5, ABS),),
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    WARNING,
                    "Repeat liver tests with bilirubin within a week; stop if there are signs of "
                    "liver injury.",
                    "EU-SmPC §4.4; US-PI §5; CK",
                    verify=(
                        "The labels describe drug-induced liver injury (enzymes ≥ 3 × ULN with "
                        "bilirubin ≥ 2 × ULN) without a threshold of their own for the enzymes "
                        "alone: > 3 × ULN raises a WARNING (CTCAE-v5 grade 2); with bilirubin it "
                        "is Hy's law (CRITICAL)."
                    ),
                )
            ),
            event_alert(
                "liver_injury",
                "Signs of liver injury or Hy's law pattern",
                CRITICAL,
                "Stop.",
                "US-PI §5",
            ),
            event_alert(
                "proteinuria",
                "New proteinuria or creatinine rise",
                WARNING,
                "Review.",
                "EU-SmPC §4.4",
            ),
            pml_symptoms_alert("US-PI §5"),
            baseline_lymphocytes,
        ),
        side_effects=(
            "Flushing",
            "Stomach upset: abdominal pain, diarrhoea, nausea",
            "Low lymphocytes",
            "Shingles",
            "Liver injury",
            "Allergic reactions, swelling of face or throat",
            "Protein in the urine",
            "PML (mostly with prolonged low lymphocytes)",
        ),
        visit_checks=(
            "If stopped for lymphopenia: lymphocyte count until recovery (US-PI §5; EU-SmPC §4.4)",
        ),
        switching_notes=(
            "No fixed washout; before a cell-depleting or S1P drug check that lymphocytes have "
            "recovered (France4MS-2021; CK)."
        ),
        pregnancy=pregnancy(
            AVOID,
            "EU-SmPC §4.6; CK",
            verify="'Not recommended unless clearly needed; stop at conception': a recorded "
            "pregnancy refuses the start or a dose unless a neurologist overrides with a reason; "
            "no contraception period is asked for.",
        ),
        pregnancy_notes=(
            "Stop when pregnancy is planned or confirmed; no washout needed (ABN-2024; CK; verify)."
        ),
        notes=notes,
        authorised_in_region=us or product.eu_authorised,
    )


PROTOCOLS: tuple[Protocol, ...] = tuple(
    _protocol(product, region) for product in _PRODUCTS for region in (Region.US, Region.EU)
)

__all__ = ["PROTOCOLS"]
