"""Alemtuzumab (§3.15).

Monthly blood count, creatinine and urinalysis, and 3-monthly TSH, run from the first course
until 48 months after the LAST infusion. They are anchored to the first dose, with the end
relative to the last dose: a new course moves the end out (the window restarts) while every
item already scheduled keeps its identity, and the duty outlives a stop of the plan.
"""

from __future__ import annotations

from ..schema import (
    Anchor,
    Comparator,
    Condition,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    MonitoringRule,
    Protocol,
    Region,
    Route,
    Until,
)
from ._build import (
    ABS,
    AVOID,
    BASE,
    CELLS,
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    LLN,
    LT,
    ULN,
    VERSION,
    WARNING,
    alert,
    alt_and_ast,
    check,
    event_alert,
    gate,
    pregnancy,
    pregnancy_alert,
    pregnancy_gate,
    rule,
)

AFTER_LAST_INFUSION = Until(Anchor.LAST_DOSE, 48)


def _protocol(region: Region) -> Protocol:
    us = region == Region.US
    lbl = "US-PI §5" if us else "EU-SmPC §4.4"
    both = ("US-PI §5", "EU-SmPC §4.4")

    def window_rule(
        key: str,
        investigation: str,
        text: str,
        every: int,
        sources: tuple[str, ...] = both,
        verify: str = "",
    ) -> MonitoringRule:
        return rule(
            key,
            investigation,
            text,
            sources,
            every=every,
            start=every,
            until=AFTER_LAST_INFUSION,
            survives_stop=True,
            verify=verify,
        )

    lft_rule = (
        window_rule(
            "lft_3_monthly",
            "lft",
            "Liver tests every 3 months until 48 months after the last infusion",
            3,
            sources=("US-PI §5", "CK"),
            verify="US label says 'periodically': we test with the 3-monthly TSH draw.",
        )
        if us
        else window_rule(
            "lft_monthly",
            "lft",
            "Monthly liver tests until 48 months after the last infusion",
            1,
            sources=("EU-SmPC §4.4",),
            verify="EU frequency unconfirmed ('more frequent'): we take monthly, with the "
            "monthly blood draw.",
        )
    )
    rules = [
        window_rule(
            "cbc_monthly",
            "cbc",
            "Monthly blood count with differential and platelets until 48 months after the last "
            "infusion",
            1,
        ),
        window_rule(
            "creatinine_monthly",
            "creatinine",
            "Monthly serum creatinine until 48 months after the last infusion",
            1,
        ),
        window_rule(
            "urinalysis_monthly",
            "urinalysis",
            "Monthly urinalysis with microscopy until 48 months after the last infusion",
            1,
        ),
        window_rule(
            "tsh_3_monthly",
            "tsh",
            "TSH every 3 months until 48 months after the last infusion",
            3,
        ),
        lft_rule,
        rule(
            "skin_exam_yearly",
            "skin_exam",
            "Yearly skin examination",
            ("US-PI §5", "CK"),
            every=12,
            survives_stop=True,
            verify="No end given ('indefinitely', CK): continues to the horizon after a stop.",
        ),
        rule(
            "cervical_screening_yearly",
            "cervical_screening",
            "Yearly HPV / cervical screening",
            "US-PI §5",
            every=12,
            survives_stop=True,
            when=(Condition.FEMALE,),
        ),
    ]
    if us:
        rules.append(
            rule(
                "cd4_after_course",
                "cd4",
                "CD4 count 2 months after each course: herpes prophylaxis continues until "
                "CD4 ≥ 0.2 ×10⁹/L",
                "US-PI §2",
                anchor=Anchor.EACH_COURSE,
                offsets=(2,),
                survives_stop=True,
                verify="Prophylaxis wording unconfirmed: we follow the US text (≥ 2 months or "
                "until CD4 ≥ 200 cells/µL) and test CD4 at 2 months; the EU protocol gives "
                "prophylaxis ≥ 1 month without a CD4 test.",
            )
        )
    baseline = [
        check("cbc", True, lbl, note="With differential."),
        check("creatinine", True, lbl),
        check("urinalysis", True, lbl, note="With microscopy."),
        check("urine_protein_creatinine", False, lbl),
        check("tsh", True, lbl),
        check("lft", True, lbl),
        check("vzv_igg", True, lbl, note="Vaccinate negatives at least 6 weeks before."),
        check("hiv", True, lbl),
        check("hbsag", True, lbl),
        check("anti_hbc", True, lbl),
        check("hcv_ab", True, lbl),
        check("tb_igra", True, lbl),
        check("cervical_screening", True, lbl, note="Women."),
        check("skin_exam", True, lbl),
        check("pregnancy_test", True, lbl),
        check("blood_pressure", True, lbl),
        check(
            "ecg",
            not us,
            "EU-SmPC §4.4 (2020)" if not us else "CK",
            note="EU 2020 update (verify): we require it in the EU protocol only.",
        ),
    ]
    return Protocol(
        drug_key="alemtuzumab",
        drug_name="Alemtuzumab",
        brands=("Lemtrada",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.ANTI_CD52,
        route=Route.INTRAVENOUS,
        schedule_text=(
            "Course 1: 12 mg/day IV × 5 days; course 2 twelve months later: 12 mg/day × 3 days; "
            + (
                "further 3-day courses ≥ 12 months apart if needed."
                if us
                else "up to 2 further 3-day courses ≥ 12 months apart if needed."
            )
        ),
        efficacy_category=EfficacyCategory.HIGH,
        atc_current="L04AG06",
        atc_former="L04AA34",
        atc_verified=True,
        sources=(lbl, "Lit (PMC10169923)", "CK"),
        baseline_checks=tuple(baseline),
        monitoring_rules=tuple(rules),
        dose_gates=(
            pregnancy_gate(GateEvent.EACH_COURSE, lbl),
            gate(
                "vzv_igg",
                Comparator.POSITIVE,
                GateEvent.FIRST_DOSE,
                "VZV IgG positive, or vaccinated at least 6 weeks before",
                lbl,
            ),
        ),
        alert_rules=(
            alert(
                "platelets_lt_100",
                "platelets",
                LT,
                100,
                ABS,
                CRITICAL,
                "Urgent repeat and haematology (immune thrombocytopenia).",
                "US-PI §5; CK",
                unit=CELLS,
            ),
            alert(
                "platelets_lt_lln",
                "platelets",
                LT,
                1,
                LLN,
                CRITICAL,
                "Urgent repeat; haematology if falling or with bruising/bleeding.",
                "US-PI §5; CK",
            ),
            alert(
                "creatinine_rise",
                "creatinine",
                GT,
                1.3,
                BASE,
                CRITICAL,
                "Urgent nephrology (anti-GBM disease); also for new haematuria or proteinuria.",
                "US-PI §5",
                verify="Threshold unconfirmed: we alert on a rise > 30% from baseline.",
            ),
            alert("tsh_high", "tsh", GT, 1, ULN, WARNING, "Thyroid work-up.", "US-PI §5"),
            alert("tsh_low", "tsh", LT, 1, LLN, WARNING, "Thyroid work-up.", "US-PI §5"),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    CRITICAL,
                    "Work-up for autoimmune hepatitis.",
                    "US-PI §5",
                )
            ),
            alert(
                "monthly_bloods_missed",
                "cbc",
                GT,
                35,
                ABS,
                WARNING,
                "Chase the monthly bloods.",
                "CK",
                unit="days since last result",
            ),
            event_alert(
                "bleeding",
                "Prolonged aPTT, unusual bruising or bleeding",
                CRITICAL,
                "Acquired haemophilia A work-up.",
                "EU-SmPC §4.4",
            ),
            event_alert(
                "hlh",
                "Fever, cytopenias, hepatosplenomegaly",
                CRITICAL,
                "Suspect HLH.",
                "US-PI §5",
            ),
            event_alert(
                "stroke_after_infusion",
                "Stroke symptoms, neck pain or chest pain after an infusion",
                CRITICAL,
                "Emergency care.",
                "US-PI §5",
            ),
            pregnancy_alert(lbl),
        ),
        side_effects=(
            "Infusion reactions",
            "Infections (herpes, listeria, CMV, TB, nocardia)",
            "Thyroid disease (about 40%)",
            "Low platelets - bruising, bleeding (ITP, about 2%)",
            "Kidney disease (anti-GBM): blood in urine, swelling",
            "Autoimmune hepatitis",
            "HLH, acquired haemophilia A",
            "Stroke, arterial dissection, heart attack, lung bleeding within 1-3 days of infusion",
            "Cancers (thyroid, melanoma, lymphoproliferative)",
        ),
        visit_checks=(
            "Methylprednisolone 1 g IV on the first 3 days of every course (US-PI §2; "
            "EU-SmPC §4.2)",
            "Oral herpes prophylaxis from day 1 of each course: "
            + ("≥ 2 months or until CD4 ≥ 200 cells/µL (US)" if us else "≥ 1 month (EU)"),
            "Listeria: avoid risky foods from 2 weeks before until ≥ 1 month after each course",
            "Vital signs during infusion; observe ≥ 2 hours after each infusion (US)",
            "Autoimmunity can appear after 48 months: lifelong vigilance (EU-SmPC §4.4)",
        ),
        switching_notes=(
            "Further DMT only if disease activity, after lymphocyte recovery; siponimod not "
            "recommended after alemtuzumab (EU-SmPC §4.2)."
        ),
        pregnancy=pregnancy(
            AVOID,
            "US-PI §8.3" if us else "EU-SmPC §4.6",
            "Effective contraception during each course and for 4 months after it",
        ),
        pregnancy_notes="Contraception during each course and for 4 months after.",
        has_courses=True,
        has_doses=True,
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
