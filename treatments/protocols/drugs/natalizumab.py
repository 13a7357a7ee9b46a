"""Natalizumab IV (US, EU) and SC (EU only) (§3.10, §4)."""

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
)
from ._build import (
    ABS,
    ALLOWED,
    BASE,
    CELLS,
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    LT,
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


def _rules(region: Region) -> tuple[MonitoringRule, ...]:
    us = region == Region.US
    jcv_sources = ("EU-SmPC §4.4", "UK-PML-2016") if not us else ("US-PI §5", "UK-PML-2016", "CK")
    rules = [
        rule(
            "jcv_antibody",
            "jcv_antibody",
            "Anti-JCV antibody with index every 6 months (while negative, or positive with "
            "index ≤ 1.5 and no prior immunosuppressant)",
            jcv_sources,
            every=6,
            verify="" if not us else "US label says 'periodically'; 6-monthly per EU/UK practice.",
        ),
        rule(
            "mri_jcv_positive",
            "mri_brain",
            "Safety MRI (FLAIR, T2, DWI) every 6 months from month 18 while JCV positive",
            ("UK-PML-2016", "EU-SmPC §4.4"),
            every=6,
            start=18,
            when=(Condition.JCV_POSITIVE,),
            verify="Reference gives 'from about 18-24 months' (verify): we start at 18 months.",
        ),
        rule(
            "mri_pml_high_risk",
            "mri_brain",
            "Abbreviated safety MRI (FLAIR + DWI) every 3 months from month 18 at high PML risk",
            ("MAGNIMS-2016", "UK-PML-2016", "EU-SmPC §4.4"),
            every=3,
            start=18,
            when=(Condition.PML_HIGH_RISK,),
            verify="3-4 months (UK) or 3-6 months (EU): we take the shortest, 3 months.",
        ),
        rule(
            "cbc",
            "cbc",
            "Yearly blood count (thrombocytopenia, anaemia)",
            ("US-PI §5", "CK"),
            every=12,
            verify="'Periodically': we take yearly.",
        ),
        rule(
            "lft",
            "lft",
            "Yearly liver tests",
            ("US-PI §5", "CK"),
            every=12,
            verify="'Periodically': we take yearly.",
        ),
        rule(
            "pml_review_after_stop",
            "neuro_review",
            "PML and rebound check after stopping natalizumab (PML vigilance lasts 6 months; "
            "rebound peaks 3-4 months after the last dose)",
            ("EU-SmPC §4.4", "US-PI §5", "CK"),
            anchor=Anchor.STOP,
            offsets=(3, 6),
            verify="Labels ask for vigilance, not visits: we schedule reviews at 3 and 6 months.",
        ),
        rule(
            "mri_after_stop",
            "mri_brain",
            "Safety MRI 6 months after stopping natalizumab (end of the PML window)",
            ("EU-SmPC §4.4", "MAGNIMS-2016"),
            anchor=Anchor.STOP,
            offsets=(6,),
        ),
        rule(
            "mri_after_stop_jcv_positive",
            "mri_brain",
            "Safety MRI every 3 months for 12 months after stopping natalizumab while JCV positive "
            "(with the 6-month scan)",
            ("MAGNIMS-2016",),
            anchor=Anchor.STOP,
            offsets=(3, 9, 12),
            when=(Condition.JCV_POSITIVE, Condition.PML_HIGH_RISK),
            verify="§3.10 limits 3-4-monthly post-switch MRI to JCV positive or high risk; we "
            "take 3-monthly for them and one scan at 6 months for everyone.",
        ),
    ]
    if not us:
        rules.append(
            rule(
                "pml_reconsent_24m",
                "neuro_review",
                "Re-inform about PML and re-stratify risk after 2 years of treatment",
                "EU-SmPC §4.2",
                offsets=(24,),
            )
        )
    return tuple(rules)


def _protocol(region: Region, *, subcutaneous: bool) -> Protocol:
    us = region == Region.US
    lbl = "US-PI §5" if us else "EU-SmPC §4.4"
    route = "SC (2 × 150 mg)" if subcutaneous else "IV (1-hour infusion)"
    return Protocol(
        drug_key="natalizumab_sc" if subcutaneous else "natalizumab_iv",
        drug_name="Natalizumab" + (" (subcutaneous)" if subcutaneous else " (intravenous)"),
        brands=("Tysabri",) if subcutaneous else ("Tysabri", "Tyruko"),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.ANTI_INTEGRIN,
        route=Route.SUBCUTANEOUS if subcutaneous else Route.INTRAVENOUS,
        schedule_text=f"300 mg {route} every 4 weeks.",
        efficacy_category=EfficacyCategory.HIGH,
        atc_current="L04AG03",
        atc_former="L04AA23",
        atc_verified=True,
        sources=(lbl, "UK-PML-2016", "MAGNIMS-2016", "Berger-Fox-2016", "CK"),
        baseline_checks=(
            check(
                "jcv_antibody",
                True,
                lbl,
                note="With index; not within 2 weeks after plasma exchange or 6 months after IVIG "
                "(verify).",
            ),
            check(
                "mri_brain",
                not us,
                lbl,
                within_days=THREE_MONTHS_DAYS if not us else None,
                note="PML reference scan.",
            ),
            check("cbc", True, "CK"),
            check("lft", True, "US-PI §5; CK"),
            check("pregnancy_test", False, "CK", note="Pregnancy status."),
        ),
        monitoring_rules=_rules(region),
        dose_gates=(
            gate(
                "jcv_antibody",
                Comparator.DONE,
                GateEvent.FIRST_DOSE,
                "JCV antibody status with index on file",
                lbl,
            ),
        ),
        alert_rules=(
            pml_symptoms_alert("US-PI §5 (boxed); EU-SmPC §4.4"),
            event_alert(
                "pml_mri_lesion",
                "New lesion suggesting PML on surveillance MRI",
                CRITICAL,
                "Withhold dosing; CSF JCV DNA PCR; stop permanently if PML.",
                "MAGNIMS-2016",
            ),
            alert(
                "jcv_seroconversion",
                "jcv_antibody",
                Comparator.POSITIVE,
                None,
                BASE,
                WARNING,
                "Negative → positive: re-stratify risk and counsel.",
                "EU-SmPC §4.4",
            ),
            alert(
                "jcv_index_gt_1_5",
                "jcv_antibody",
                GT,
                1.5,
                ABS,
                CRITICAL,
                "With treatment > 24 months (or prior immunosuppressant): high PML risk — "
                "benefit-risk review, 3-monthly MRI, consider switch or extended-interval dosing.",
                "EU-SmPC §4.4; UK-PML-2016",
                unit="index",
            ),
            alert(
                "jcv_index_gt_0_9",
                "jcv_antibody",
                GT,
                0.9,
                ABS,
                WARNING,
                "With treatment > 24 months: intermediate PML risk — 6-monthly index, more "
                "frequent MRI.",
                "EU-SmPC §4.4; UK-PML-2016",
                unit="index",
            ),
            event_alert(
                "infusion_24",
                "Infusion count reaching 24 (about 2 years)",
                WARNING,
                "Re-consent about PML; re-stratify risk.",
                "EU-SmPC §4.2",
            ),
            alert(
                "platelets_lt_100",
                "platelets",
                LT,
                100,
                ABS,
                WARNING,
                "Review (immune thrombocytopenia).",
                "US-PI §5",
                unit=CELLS,
            ),
            event_alert(
                "liver_injury", "Jaundice or marked liver injury", CRITICAL, "Stop.", "US-PI §5"
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    WARNING,
                    "Repeat liver tests with bilirubin; stop natalizumab for jaundice or marked "
                    "liver injury.",
                    "US-PI §5; CK",
                    verify=(
                        "The label asks to stop for significant liver injury without a number: "
                        "ALT or AST > 3 × ULN raises a WARNING (CTCAE-v5 grade 2)."
                    ),
                )
            ),
            event_alert(
                "hypersensitivity",
                "Hypersensitivity or anaphylaxis",
                CRITICAL,
                "Stop permanently.",
                "US-PI §5",
            ),
            event_alert(
                "herpes_infection",
                "Suspected herpes encephalitis/meningitis or acute retinal necrosis",
                CRITICAL,
                "Stop; antiviral treatment.",
                "US-PI §5",
            ),
        ),
        side_effects=(
            "PML: new problems with thinking, behaviour, vision, strength or speech",
            "Infusion or injection reactions, allergy",
            "Herpes infections (brain, eye)",
            "Liver injury",
            "Low platelets",
            "Headache, tiredness, joint pain, urinary infections",
            "Rebound of MS 3-6 months after stopping",
        ),
        visit_checks=(
            "Clinical PML check at every dose and until 6 months after the last dose "
            "(EU-SmPC §4.4; US-PI §5)",
            "Observe during and 1 hour after each of the first 6 doses (EU-SmPC §4.2)"
            + (
                "; home administration may be considered after ≥ 6 well-tolerated doses"
                if subcutaneous
                else ""
            ),
            "Anti-natalizumab antibodies if infusion reaction or loss of efficacy (EU-SmPC §4.4)",
        ),
        switching_notes=(
            "Start the next DMT within about 4-8 weeks (ideally ≤ 6) to limit rebound. JCV "
            "positive or high risk: MRI (± CSF JCV PCR) before the next immunosuppressant."
        ),
        pregnancy=pregnancy(
            ALLOWED,
            "EU-SmPC §4.6",
            verify="May be continued in highly active disease: not refused for a recorded "
            "pregnancy (third-trimester exposure: check the newborn's blood count).",
        ),
        pregnancy_notes=(
            "May be continued in highly active disease (EU-SmPC §4.6); if given in the third "
            "trimester, check the newborn's blood count. Many centres dose 6-weekly and give the "
            "last dose at about 30-34 weeks (ABN-2024; verify)."
        ),
        notes=(
            "Extended-interval dosing (every 6 weeks) is off-label; PML surveillance is unchanged.",
            "Risk-dependent MRI: pass Condition.JCV_POSITIVE or Condition.PML_HIGH_RISK (§4.2); "
            "the general protocol's yearly MRI covers JCV-negative patients.",
        ),
        has_doses=True,
        min_dose_interval_days=21,
        min_dose_interval_source=(
            "US-PI §2 (every 4 weeks); CK" if us else "EU-SmPC §4.2 (every 4 weeks); CK"
        ),
        min_dose_interval_verify_note=(
            "The label doses every 4 weeks and gives no minimum gap (verify). We refuse a dose "
            "earlier than 21 days after the previous one (4 weeks less a week's leeway); "
            "extended-interval dosing is longer, never shorter."
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (
    _protocol(Region.US, subcutaneous=False),
    _protocol(Region.EU, subcutaneous=False),
    _protocol(Region.EU, subcutaneous=True),
)
