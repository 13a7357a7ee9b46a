"""Fingolimod (§3.6)."""

from __future__ import annotations

from ..schema import (
    Anchor,
    Comparator,
    Condition,
    ConditionTrigger,
    Criterion,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    PeriodUnit,
    Protocol,
    Region,
    Route,
    TreatmentGap,
)
from ._build import (
    ABS,
    CELLS,
    CONTRAINDICATED,
    CRITICAL,
    EFFECTIVE_FROM,
    GATE,
    GE,
    GT,
    LT,
    SIX_MONTHS_DAYS,
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
    pregnancy_gate,
    rule,
)

# §3.6: repeat the first-dose observation after a gap of >= 1 day in weeks 1-2, > 7 days in
# weeks 3-4, or > 2 weeks after month 1 (EU-SmPC §4.2; US: > 14 days after the first month).
_FDO_GAPS = (
    TreatmentGap(from_day=1, to_day=14, min_days=1),
    TreatmentGap(from_day=15, to_day=28, min_days=8),
    TreatmentGap(from_day=29, to_day=None, min_days=15),
)

# §3.6 (corrected 2026-11): a prolonged baseline QTc below 500 ms calls for overnight ECG
# monitoring from the first dose; 500 ms or more is a contraindication (not a trigger here).
_QTC_SOURCE = "EU-SmPC §4.2/§4.4"
_PROLONGED_QTC = (
    ConditionTrigger(
        Condition.PROLONGED_QTC, "qtc", Comparator.GT, 450, "ms", _QTC_SOURCE, sex="male", below=500
    ),
    ConditionTrigger(
        Condition.PROLONGED_QTC,
        "qtc",
        Comparator.GT,
        470,
        "ms",
        _QTC_SOURCE,
        sex="female",
        below=500,
        verify_note="A patient whose sex is recorded as neither is judged by the men's 450 ms.",
    ),
)


def _protocol(region: Region) -> Protocol:
    us = region == Region.US
    lbl = "US-PI §5" if us else "EU-SmPC §4.4"
    fdo = "US-PI §2/§5" if us else "EU-SmPC §4.2/§4.4"
    baseline = [
        check("cbc", True, lbl, within_days=SIX_MONTHS_DAYS),
        check("lft", True, lbl, within_days=SIX_MONTHS_DAYS, note="ALT/AST and total bilirubin."),
        check(
            "ecg",
            True,
            lbl,
            note="Review class Ia/III antiarrhythmics, β-blockers, rate-lowering calcium-channel "
            "blockers and QT-prolonging drugs.",
        ),
        check(
            "vzv_igg",
            True,
            lbl,
            note="If negative and unvaccinated: vaccinate, start 1 month later.",
        ),
        check(
            "eye_exam",
            us,
            lbl,
            note="Fundus/macula." + ("" if us else " EU: required with diabetes or uveitis."),
        ),
        check("blood_pressure", True, lbl),
        check("pregnancy_test", True, "EU-SmPC §4.6" if not us else "US-PI §8.3"),
    ]
    if not us:
        baseline += [
            check("skin_exam", True, lbl),
            check("cervical_screening", True, lbl, note="Cervical screening / HPV vaccination."),
        ]
    lft_sources = ("DHPC-2020",) if not us else ("DHPC-2020", "CK")
    lft_verify = "'Then periodically' after month 12: we take every 6 months."
    if us:
        lft_verify += (
            " The US label asks only for baseline and symptom-driven LFTs; we apply the EU "
            "DHPC-2020 schedule in the US protocol too (class liver-injury risk)."
        )
    return Protocol(
        drug_key="fingolimod",
        drug_name="Fingolimod",
        brands=("Gilenya", "Tascenso ODT"),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.S1P_MODULATOR,
        route=Route.ORAL,
        schedule_text="0.5 mg by mouth daily (0.25 mg for children ≤ 40 kg).",
        efficacy_category=EfficacyCategory.MODERATE_HIGH,
        atc_current="L04AE01",
        atc_former="L04AA27",
        atc_verified=True,
        sources=(lbl, fdo, "DHPC-2020", "France4MS-2021", "CK"),
        baseline_checks=tuple(baseline),
        monitoring_rules=(
            rule(
                "first_dose_observation",
                "first_dose_observation",
                "6-hour first-dose observation with hourly pulse and blood pressure",
                fdo,
                unit=PeriodUnit.DAYS,
                offsets=(0,),
                before=0,
                after=0,
            ),
            rule(
                "ecg_first_dose",
                "ecg",
                "ECG before the first dose and at the end of the 6-hour observation",
                fdo,
                unit=PeriodUnit.DAYS,
                offsets=(0,),
                before=0,
                after=0,
            ),
            rule(
                "overnight_ecg_prolonged_qtc",
                "overnight_ecg",
                "Overnight ECG monitoring from the first dose: baseline QTc above 450 ms (men) or "
                "470 ms (women)",
                ("EU-SmPC §4.2/§4.4", "US-PI §2/§5"),
                unit=PeriodUnit.DAYS,
                offsets=(0,),
                before=0,
                after=1,
                when=(Condition.PROLONGED_QTC,),
                verify=(
                    "The sex-specific limits are the EU-SmPC's; the US-PI advises overnight "
                    "monitoring for a prolonged QTc before dosing without numbers, so the EU "
                    "limits apply in both regions. A baseline QTc of 500 ms or more is a "
                    "contraindication (US-PI §4; EU-SmPC §4.3), not an overnight observation."
                ),
            ),
            rule(
                "first_dose_observation_restart",
                "first_dose_observation",
                "Repeat the 6-hour first-dose observation on resuming fingolimod after a gap of "
                "≥ 1 day in weeks 1-2, > 7 days in weeks 3-4, or > 2 weeks after month 1",
                ("EU-SmPC §4.2", "US-PI §2"),
                anchor=Anchor.RESTART,
                unit=PeriodUnit.DAYS,
                offsets=(0,),
                before=0,
                after=0,
                restart_after=_FDO_GAPS,
                verify=(
                    "US text: 'more than 14 days after the first month'; the EU bands are used in "
                    "both regions (they include it). Day 1 is the first dose; the gap is the days "
                    "between the suspension and the resumption recorded on the plan."
                ),
            ),
            rule(
                "ecg_restart",
                "ecg",
                "ECG before the resumed dose and at the end of the repeated 6-hour observation",
                ("EU-SmPC §4.2", "US-PI §2"),
                anchor=Anchor.RESTART,
                unit=PeriodUnit.DAYS,
                offsets=(0,),
                before=0,
                after=0,
                restart_after=_FDO_GAPS,
            ),
            rule(
                "eye_exam_3_4m",
                "eye_exam",
                "Eye examination (macular oedema) 3-4 months after starting fingolimod",
                ("EU-SmPC §4.4", "US-PI §5"),
                offsets=(3,),
                before=0,
                after=31,
            ),
            rule(
                "eye_exam_diabetes_uveitis",
                "eye_exam",
                "Yearly eye examination with diabetes or uveitis",
                (lbl, "CK"),
                every=12,
                when=(Condition.DIABETES_OR_UVEITIS,),
                verify="'Regularly' with diabetes or uveitis: we take yearly.",
            ),
            rule(
                "cbc",
                "cbc",
                "Blood count with lymphocytes at month 3, then yearly",
                ("EU-SmPC §4.4",) if not us else ("US-PI §5", "CK"),
                offsets=(3,),
                every=12,
                verify="" if not us else "US label says 'periodically'; we use the EU schedule.",
            ),
            rule(
                "lft",
                "lft",
                "Liver tests including bilirubin at months 1, 3, 6, 9 and 12, then every 6 months",
                lft_sources,
                offsets=(1, 3, 6, 9, 12),
                every=6,
                verify=lft_verify,
            ),
            *(
                ()
                if us
                else (
                    rule(
                        "skin_exam",
                        "skin_exam",
                        "Skin examination every 6 months",
                        "EU-SmPC §4.4",
                        every=6,
                        verify="'Every 6-12 months': we take the shorter interval, 6 months.",
                    ),
                )
            ),
            rule(
                "lft_after_stop",
                "lft",
                "Liver tests 2 months after stopping fingolimod (liver monitoring continues to 2 "
                "months after the last dose)",
                lft_sources,
                anchor=Anchor.STOP,
                offsets=(2,),
                before=14,
                after=14,
                verify="'Until 2 months after stopping' is met with one final check at 2 months.",
            ),
            rule(
                "review_after_stop",
                "neuro_review",
                "Review 3 months after stopping for severe rebound (usually within 12-24 weeks) "
                "and late infections",
                (lbl, "CK"),
                anchor=Anchor.STOP,
                offsets=(3,),
                before=14,
                after=14,
            ),
        ),
        dose_gates=(
            gate("ecg", Comparator.DONE, GateEvent.FIRST_DOSE, "Baseline 12-lead ECG", lbl),
            gate(
                "ecg",
                LT,
                GateEvent.FIRST_DOSE,
                "Baseline QTc below 500 ms (QTc ≥ 500 ms contraindicates fingolimod)",
                "US-PI §4; EU-SmPC §4.3",
                analyte="qtc",
                threshold=500,
                unit="ms",
            ),
            gate(
                "vzv_igg",
                Comparator.POSITIVE,
                GateEvent.FIRST_DOSE,
                "VZV IgG positive, or vaccinated at least 1 month before starting",
                lbl,
            ),
            pregnancy_gate(GateEvent.FIRST_DOSE, "EU-SmPC §4.6" if not us else "US-PI §8.3"),
        ),
        alert_rules=(
            alert(
                "heart_rate_6h_lt_45",
                "heart_rate",
                LT,
                45,
                ABS,
                CRITICAL,
                "Extend monitoring until resolved (also if HR at 6 h is the lowest since dosing, "
                "or new 2nd-degree or higher AV block).",
                fdo,
                unit="/min",
            ),
            alert(
                "qtc_ge_500",
                "qtc",
                GE,
                500,
                ABS,
                GATE,
                "Contraindicated: do not start fingolimod.",
                "US-PI §4; EU-SmPC §4.3",
                unit="ms",
                verify=(
                    "Corrected 2026-11 (§3.6): a baseline QTc of 500 ms or more contraindicates "
                    "the start in both regions (the start's dose gate refuses it and raises this "
                    "alert); it is not an overnight-monitoring threshold. Below it the "
                    "sex-specific limits (> 450 ms men, > 470 ms women) schedule overnight ECG "
                    "monitoring (rule overnight_ecg_prolonged_qtc)."
                ),
            ),
            event_alert(
                "av_block",
                "New 2nd-degree or higher AV block",
                CRITICAL,
                "Extend monitoring; cardiology.",
                fdo,
            ),
            alert(
                "lymphocytes_lt_0_2",
                "lymphocytes",
                LT,
                0.2,
                ABS,
                CRITICAL if not us else WARNING,
                "Interrupt until recovery." if not us else "Review (no US numeric threshold).",
                "EU-SmPC §4.4" if not us else "EU-SmPC §4.4; CK",
                unit=CELLS,
                persistence="confirmed on repeat",
            ),
            *alt_and_ast(
                alert(
                    "alt_3_5_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    WARNING,
                    "More frequent LFTs including bilirubin and ALP.",
                    "DHPC-2020",
                    also=(
                        Criterion("alt", LT, 5, ULN),
                        Criterion("bilirubin", Comparator.LE, 1, ULN),
                    ),
                )
            ),
            alert(
                "alt_ge_5_uln",
                "alt",
                GE,
                5,
                ULN,
                CRITICAL,
                "Stop fingolimod.",
                "DHPC-2020",
                verify="Exact DHPC wording unconfirmed; we stop at ≥ 5 × ULN.",
            ),
            alert(
                "ast_ge_5_uln",
                "ast",
                GE,
                5,
                ULN,
                CRITICAL,
                "Stop fingolimod.",
                "DHPC-2020",
            ),
            *alt_and_ast(
                alert(
                    "alt_ge_3_uln_bilirubin_up",
                    "alt",
                    GE,
                    3,
                    ULN,
                    CRITICAL,
                    "Stop fingolimod.",
                    "DHPC-2020",
                    also=(Criterion("bilirubin", GT, 1, ULN),),
                    verify="'With any bilirubin rise' is encoded as bilirubin above the ULN.",
                )
            ),
            event_alert("macular_oedema", "Confirmed macular oedema", CRITICAL, "Stop.", lbl),
            event_alert(
                "cryptococcal_meningitis",
                "Headache with fever (?cryptococcal meningitis)",
                CRITICAL,
                "Suspend; urgent assessment.",
                "US-PI §5",
            ),
            pml_symptoms_alert("US-PI §5"),
            event_alert(
                "suspicious_skin_lesion",
                "Suspicious skin lesion",
                WARNING,
                "Dermatology (BCC, melanoma, Kaposi).",
                "EU-SmPC §4.4",
            ),
        ),
        side_effects=(
            "Slow heart rate after the first dose",
            "Blurred vision (macular oedema), mostly in the first 3-4 months",
            "Infections incl. shingles, cryptococcal meningitis, PML",
            "Skin cancers, lymphoma",
            "Raised liver enzymes or liver injury",
            "High blood pressure",
            "Breathlessness",
            "Headache, cough, diarrhoea, back pain",
            "Severe rebound of MS after stopping",
        ),
        condition_triggers=_PROLONGED_QTC,
        visit_checks=(
            "Blood pressure at each visit (US-PI §5)",
            "Record any gap in treatment (suspend and resume the plan): a gap of ≥ 1 day in "
            "weeks 1-2, > 7 days in weeks 3-4, or > 2 weeks after month 1 schedules a repeated "
            "first-dose observation on the day of resuming (EU-SmPC §4.2)",
            "Infection vigilance until 2 months after stopping (EU-SmPC §4.4)",
            "Cervical screening per national programme (EU-SmPC §4.4)",
        ),
        switching_notes=(
            "Lymphocytes recover within about 1-2 months. Rebound risk: start the next DMT after a "
            "short washout of about 4-8 weeks, with a lymphocyte check before a cell-depleting "
            "drug (France4MS-2021; CK)."
        ),
        pregnancy=pregnancy(
            CONTRAINDICATED,
            "EU-SmPC §4.6" if not us else "US-PI §8.3",
            "Effective contraception during treatment and for 2 months after the last dose",
        ),
        pregnancy_notes=(
            "Contraindicated. Stop at least 2 months before conception (contraception for 2 "
            "months after the last dose); warn about rebound during pregnancy."
        ),
        interaction_notes=(
            "Class Ia/III antiarrhythmics, β-blockers, heart-rate-lowering calcium-channel "
            "blockers, other bradycardic or QT-prolonging drugs."
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
