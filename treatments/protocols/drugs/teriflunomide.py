"""Teriflunomide (§3.3). The US and EU labels differ on the ALT schedule."""

from __future__ import annotations

from ..schema import (
    Anchor,
    Comparator,
    Criterion,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    PeriodUnit,
    Protocol,
    Region,
    Route,
    Until,
)
from ._build import (
    ABS,
    CELLS,
    CONTRAINDICATED,
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    LT,
    SIX_MONTHS_DAYS,
    ULN,
    VERSION,
    WARNING,
    alert,
    check,
    event_alert,
    gate,
    pregnancy,
    pregnancy_alert,
    pregnancy_gate,
    rule,
)


def _alt_rules(region: Region) -> tuple:
    if region == Region.US:
        return (
            rule(
                "alt_monthly_6m",
                "alt",
                "Monthly ALT for the first 6 months of teriflunomide",
                "US-PI §5",
                offsets=(1, 2, 3, 4, 5, 6),
            ),
            rule(
                "alt_periodic",
                "alt",
                "ALT every 6 months after the first 6 months",
                ("US-PI §5", "CK"),
                every=6,
                start=12,
                verify="The US label says 'periodically' after month 6; we take every 6 months.",
            ),
        )
    return (
        rule(
            "alt_2_weekly_6m",
            "alt",
            "ALT every 2 weeks for the first 6 months of teriflunomide",
            "EU-SmPC §4.4",
            unit=PeriodUnit.WEEKS,
            every=2,
            start=2,
            until=Until(Anchor.FIRST_DOSE, 26, PeriodUnit.WEEKS),
            before=3,
            after=3,
        ),
        rule(
            "alt_8_weekly",
            "alt",
            "ALT every 8 weeks after the first 6 months",
            "EU-SmPC §4.4",
            unit=PeriodUnit.WEEKS,
            every=8,
            start=34,
            before=7,
            after=7,
        ),
    )


def _protocol(region: Region) -> Protocol:
    us = region == Region.US
    lbl = "US-PI §5" if us else "EU-SmPC §4.4"
    baseline = [
        check(
            "lft",
            True,
            lbl,
            within_days=SIX_MONTHS_DAYS if us else None,
            note="ALT, AST, bilirubin.",
        ),
        check("cbc", True, lbl, within_days=SIX_MONTHS_DAYS if us else None),
        check("blood_pressure", True, lbl),
        check("pregnancy_test", True, "US-PI boxed warning" if us else "EU-SmPC §4.6"),
    ]
    if us:
        baseline.insert(2, check("tb_igra", True, "US-PI §5", note="Latent TB test."))
    return Protocol(
        drug_key="teriflunomide",
        drug_name="Teriflunomide",
        brands=("Aubagio",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.DHODH_INHIBITOR,
        route=Route.ORAL,
        schedule_text="14 mg by mouth daily" + (" (7 mg also licensed)." if us else "."),
        efficacy_category=EfficacyCategory.MODERATE,
        atc_current="L04AK02",
        atc_former="L04AA31",
        atc_verified=True,
        sources=(lbl, "CK", "France4MS-2021"),
        baseline_checks=tuple(baseline),
        monitoring_rules=_alt_rules(region),
        dose_gates=(
            gate(
                "lft",
                Comparator.DONE,
                GateEvent.FIRST_DOSE,
                "ALT, AST and bilirubin within 6 months before starting",
                lbl,
                within_days=SIX_MONTHS_DAYS,
            ),
            gate(
                "lft",
                Comparator.LE,
                GateEvent.FIRST_DOSE,
                "Baseline ALT at most 2 × ULN (not normally started above it)",
                "US-PI §5.1",
                analyte="alt",
                threshold=2,
                relative_to=ULN,
                within_days=SIX_MONTHS_DAYS,
                verify=""
                if us
                else "The reference gives this rule from the US label (§5.1); we apply it in the "
                "EU protocol too (verify EU-SmPC §4.4). A neurologist may override it with a "
                "reason, as the label allows a documented exception.",
            ),
            pregnancy_gate(GateEvent.FIRST_DOSE, "US-PI boxed warning" if us else "EU-SmPC §4.6"),
        ),
        alert_rules=(
            alert(
                "alt_2_3_uln",
                "alt",
                GT,
                2,
                ULN,
                WARNING,
                "Check ALT weekly until below 2 × ULN.",
                "EU-SmPC §4.4",
                also=(Criterion("alt", Comparator.LE, 3, ULN),),
            ),
            alert(
                "alt_gt_3_uln",
                "alt",
                GT,
                3,
                ULN,
                CRITICAL,
                "Consider stopping; if stopped, start accelerated elimination.",
                "EU-SmPC §4.4; US-PI §5",
                persistence="confirmed on repeat",
            ),
            alert(
                "ast_gt_3_uln",
                "ast",
                GT,
                3,
                ULN,
                WARNING,
                "Review: repeat ALT, AST and bilirubin within a week; the label's stop rule is "
                "on ALT.",
                "CK (§0.4: ALT or AST)",
                verify=(
                    "The labels set the teriflunomide thresholds on ALT only; an AST above "
                    "3 × ULN raises a WARNING for review rather than the ALT rule's CRITICAL."
                ),
            ),
            event_alert(
                "drug_induced_liver_injury",
                "Suspected drug-induced liver injury (symptoms or Hy's law pattern)",
                CRITICAL,
                "Stop and start accelerated elimination; weekly LFTs until normal.",
                "US-PI §5",
            ),
            alert(
                "neutrophils_lt_1",
                "neutrophils",
                LT,
                1.0,
                ABS,
                CRITICAL,
                "Stop; consider accelerated elimination.",
                "EU-SmPC §4.4; CK",
                unit=CELLS,
            ),
            alert(
                "platelets_lt_50",
                "platelets",
                LT,
                50,
                ABS,
                CRITICAL,
                "Stop; consider accelerated elimination.",
                "EU-SmPC §4.4; CK",
                unit=CELLS,
            ),
            alert(
                "lymphocytes_lt_0_2",
                "lymphocytes",
                LT,
                0.2,
                ABS,
                CRITICAL,
                "Suspend treatment.",
                "Lit (J Neurol 2020, PMC8217029)",
                unit=CELLS,
                verify="Threshold from a German quality handbook, not the label; kept as a clinic alert.",
            ),
            event_alert(
                "hypertension", "New or worse hypertension", WARNING, "Treat; review.", "US-PI §5"
            ),
            event_alert(
                "peripheral_neuropathy",
                "Confirmed peripheral neuropathy",
                WARNING,
                "Consider stopping and accelerated elimination.",
                "US-PI §5",
            ),
            pregnancy_alert(
                "US-PI boxed warning",
                "Stop; accelerated elimination; urgent counselling.",
            ),
        ),
        side_effects=(
            "Diarrhoea, nausea",
            "Hair thinning",
            "Raised liver enzymes",
            "Headache",
            "High blood pressure",
            "Tingling or numbness (peripheral neuropathy)",
            "Infections, low neutrophils",
            "Rash (rarely severe skin reactions)",
            "Breathlessness or cough (interstitial lung disease)",
        ),
        visit_checks=(
            "Blood pressure at each visit (US-PI §5; EU-SmPC §4.4)",
            "Contraception check at each visit (US-PI §8.3)",
            "Blood count if signs of infection or haematological toxicity",
        ),
        switching_notes=(
            "Before another DMT: accelerated elimination (cholestyramine 8 g every 8 h, or "
            "activated charcoal 50 g every 12 h, for 11 days) or wait for plasma < 0.02 mg/L."
        ),
        pregnancy=pregnancy(
            CONTRAINDICATED,
            "US-PI boxed warning" if us else "EU-SmPC §4.6",
            "Effective contraception during treatment and until the plasma level is below "
            "0.02 mg/L (accelerated elimination)",
        ),
        pregnancy_notes=(
            "Contraindicated in pregnancy. Before conception: stop, accelerated elimination, and "
            "two plasma levels < 0.02 mg/L at least 14 days apart."
            + (
                " Men who wish to father a child should do the same (US-PI)."
                if us
                else " The EU-SmPC considers the male-mediated risk low."
            )
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
