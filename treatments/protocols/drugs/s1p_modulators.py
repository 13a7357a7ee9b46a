"""Siponimod (§3.7), ozanimod (§3.8) and ponesimod (§3.9). Fingolimod has its own module."""

from __future__ import annotations

from ..schema import (
    AlertRule,
    Anchor,
    BaselineCheck,
    Comparator,
    Condition,
    Criterion,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    GenotypeDosing,
    MonitoringRule,
    PeriodUnit,
    Protocol,
    Region,
    Route,
    TreatmentGap,
)
from ._build import (
    ABS,
    AVOID,
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
    alt_and_ast,
    check,
    event_alert,
    gate,
    pml_symptoms_alert,
    pregnancy,
    pregnancy_gate,
    rule,
)

_SHORTER = "'Every 6-12 months': we take the shorter interval, 6 months."


def _qtc_note(drug: str) -> str:
    return (
        f"Baseline QTc ≥ 500 ms: the reference (§3.6-§3.9) lists it as a contraindication for "
        f"fingolimod only, so {drug} is not refused on it here (verify against the {drug} label "
        "§4 / §4.3); the baseline ECG is still required before the first dose."
    )


def _lbl(region: Region) -> str:
    return "US-PI §5" if region == Region.US else "EU-SmPC §4.4"


def _baseline(region: Region, *, eye_required: bool, eye_note: str) -> list[BaselineCheck]:
    lbl = _lbl(region)
    return [
        check("cbc", True, lbl, within_days=SIX_MONTHS_DAYS),
        check("lft", True, lbl, within_days=SIX_MONTHS_DAYS, note="ALT/AST and total bilirubin."),
        check("ecg", True, lbl),
        check("eye_exam", eye_required, lbl, note=eye_note),
        check("vzv_igg", True, lbl, note="Vaccinate negatives; start about 4 weeks later."),
        check("blood_pressure", True, lbl),
        check("pregnancy_test", True, lbl),
    ]


def _fdo_rule(region: Region, hours: int, verify: str = "") -> MonitoringRule:
    return rule(
        "first_dose_observation",
        "first_dose_observation",
        f"{hours}-hour first-dose observation (hourly pulse and BP, ECG before and after) for "
        "people with bradycardia, AV block, or a history of MI or heart failure",
        "US-PI §2/§5" if region == Region.US else "EU-SmPC §4.4",
        unit=PeriodUnit.DAYS,
        offsets=(0,),
        before=0,
        after=0,
        when=(Condition.CARDIAC_RISK,),
        verify=verify,
    )


def _fdo_restart_rule(
    hours: int, gaps: tuple[TreatmentGap, ...], when_text: str, source: str, verify: str
) -> MonitoringRule:
    """The label's re-titration after missed doses, with the first-dose observation again for
    the people who needed it at the start (cardiac risk)."""
    return rule(
        "first_dose_observation_restart",
        "first_dose_observation",
        f"Restart titration from day 1 and repeat the {hours}-hour first-dose observation "
        f"(bradycardia, AV block, MI or heart failure) on resuming after {when_text}",
        source,
        anchor=Anchor.RESTART,
        unit=PeriodUnit.DAYS,
        offsets=(0,),
        before=0,
        after=0,
        when=(Condition.CARDIAC_RISK,),
        restart_after=gaps,
        verify=verify,
    )


def _eye_rule(region: Region, sources: tuple[str, ...]) -> MonitoringRule:
    return rule(
        "eye_exam_3_4m",
        "eye_exam",
        "Eye examination 3-4 months after starting, with diabetes, uveitis or retinal disease",
        sources,
        offsets=(3,),
        before=0,
        after=31,
        when=(Condition.DIABETES_OR_UVEITIS,),
    )


def _common_alerts(region: Region) -> tuple[AlertRule, ...]:
    return (
        event_alert(
            "bradyarrhythmia",
            "Symptomatic bradycardia or new 2nd-degree or higher AV block after a dose",
            CRITICAL,
            "Extend monitoring; cardiology.",
            "US-PI §5",
        ),
        event_alert("macular_oedema", "Confirmed macular oedema", CRITICAL, "Stop.", "US-PI §5"),
        event_alert("hypertension", "Sustained hypertension", WARNING, "Treat.", "US-PI §5"),
        pml_symptoms_alert("US-PI §5"),
    )


def siponimod(region: Region) -> Protocol:
    us = region == Region.US
    lbl = _lbl(region)
    baseline = _baseline(
        region,
        eye_required=us,
        eye_note="Fundus/macula"
        + ("." if us else "; especially with diabetes, uveitis or retinal disease."),
    )
    baseline += [
        check(
            "cyp2c9", True, "US-PI §2" if us else "EU-SmPC §4.2", note="*3/*3 = contraindicated."
        ),
        check("skin_exam", True, lbl),
    ]
    return Protocol(
        drug_key="siponimod",
        drug_name="Siponimod",
        brands=("Mayzent",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.S1P_MODULATOR,
        route=Route.ORAL,
        schedule_text=(
            "Genotype-based titration over 5-6 days, then 2 mg daily (1 mg daily for CYP2C9 "
            "*1/*3 or *2/*3; contraindicated for *3/*3)."
        ),
        efficacy_category=EfficacyCategory.MODERATE_HIGH,
        atc_current="L04AE03",
        atc_former="L04AA42",
        atc_verified=True,
        sources=(lbl, "Lit (PMC9148218)", "CK"),
        baseline_checks=tuple(baseline),
        monitoring_rules=(
            _fdo_rule(region, 6),
            _fdo_restart_rule(
                6,
                (
                    TreatmentGap(from_day=1, to_day=5, min_days=1),
                    TreatmentGap(from_day=6, to_day=None, min_days=4),
                ),
                "a missed titration dose or 4 or more missed maintenance doses",
                "US-PI §2" if us else "EU-SmPC §4.2",
                "The titration lasts 5 days (*1/*1, *1/*2, *2/*2) or 4 (*1/*3, *2/*3): any gap "
                "in days 1-5 counts, so a 1 mg patient's short gap on day 5 is treated as "
                "titration (the safer side). The label re-titrates; the observation is repeated "
                "for those who needed it at the start (verify).",
            ),
            rule(
                "cbc",
                "cbc",
                "Blood count with lymphocytes 3-4 months after starting, then every 6 months",
                ("EU-SmPC §4.4", "Lit (PMC9148218)"),
                offsets=(3,),
                every=6,
                before=0,
                after=31,
                verify=_SHORTER,
            ),
            rule(
                "lft",
                "lft",
                "Liver tests 3 months after starting, then every 6 months",
                ("Lit (PMC9148218)",),
                offsets=(3,),
                every=6,
                before=0,
                after=31,
                verify=(
                    "Reference says LFTs 3-6 months after starting, then every 6-12 months "
                    "(verify): we take month 3, with the blood count, then every 6 months."
                ),
            ),
            _eye_rule(region, ("US-PI §5", "Lit (PMC9148218)")),
            rule(
                "skin_exam",
                "skin_exam",
                "Yearly skin examination",
                ("EU-SmPC §4.4", "CK"),
                every=12,
                verify="'Periodically': we take yearly.",
            ),
        ),
        dose_gates=(
            gate(
                "cyp2c9",
                Comparator.NE,
                GateEvent.FIRST_DOSE,
                "CYP2C9 genotype known and not *3/*3",
                "US-PI §2" if us else "EU-SmPC §4.2",
                threshold="*3/*3",
            ),
            gate("ecg", Comparator.DONE, GateEvent.FIRST_DOSE, "Baseline ECG", lbl),
            pregnancy_gate(GateEvent.FIRST_DOSE, lbl),
        ),
        alert_rules=(
            alert(
                "lymphocytes_lt_0_2_on_2mg",
                "lymphocytes",
                LT,
                0.2,
                ABS,
                CRITICAL,
                "On 2 mg: reduce the dose to 1 mg.",
                "EU-SmPC §4.4/§4.2",
                unit=CELLS,
                persistence="confirmed on repeat",
            ),
            alert(
                "lymphocytes_lt_0_2_on_1mg",
                "lymphocytes",
                LT,
                0.2,
                ABS,
                CRITICAL,
                "Already on 1 mg: interrupt until lymphocytes ≥ 0.6 ×10⁹/L, then consider "
                "restarting.",
                "EU-SmPC §4.4/§4.2",
                unit=CELLS,
                persistence="confirmed on repeat",
            ),
            alert(
                "liver_injury",
                "alt",
                GT,
                3,
                ULN,
                CRITICAL,
                "Stop siponimod (also for symptoms of liver injury).",
                "US-PI §5",
                also=(Criterion("bilirubin", GT, 2, ULN),),
                verify="Numbers unconfirmed: we use the Hy's law pattern (ALT > 3 × ULN and "
                "bilirubin > 2 × ULN).",
            ),
            alert(
                "liver_injury_ast",
                "ast",
                GT,
                3,
                ULN,
                CRITICAL,
                "Stop siponimod (also for symptoms of liver injury).",
                "US-PI §5",
                also=(Criterion("bilirubin", GT, 2, ULN),),
                verify="As for ALT: the Hy's law pattern, read on AST too (§0.4).",
            ),
            *_transaminase_warnings("siponimod", "US-PI §5; Lit (PMC9148218); CK"),
            *_common_alerts(region),
        ),
        side_effects=(
            "Headache",
            "High blood pressure",
            "Raised liver enzymes",
            "Slow heart rate on starting",
            "Blurred vision (macular oedema)",
            "Infections incl. shingles, cryptococcal meningitis, PML",
            "Skin cancers",
            "Breathlessness",
            "Seizures, falls",
            "Rebound after stopping",
        ),
        visit_checks=(
            "Blood pressure at each visit (US-PI §5)",
            "Restart titration after a missed titration dose or ≥ 4 consecutive missed "
            "maintenance doses (US-PI §2; EU-SmPC §4.2): record the gap by suspending and "
            "resuming the plan",
            "Spirometry if respiratory symptoms (US-PI §5)",
        ),
        switching_notes=(
            "Lymphocytes recover within 10 days in most people. Not recommended after "
            "alemtuzumab; interferon/glatiramer → siponimod can be immediate (EU-SmPC §4.2)."
        ),
        pregnancy=pregnancy(
            CONTRAINDICATED,
            "EU-SmPC §4.6",
            "Effective contraception during treatment and for 10 days after the last dose",
            verify=""
            if not us
            else "The reference (§6) cites the EU label; we apply it in the US protocol too "
            "(verify US-PI §8.1).",
        ),
        pregnancy_notes="Contraception until 10 days after the last dose; stop ≥ 10 days before conception.",
        interaction_notes="CYP2C9/CYP3A4 inhibitors and inducers; bradycardic drugs.",
        notes=(_qtc_note("siponimod"),),
        genotype_investigation="cyp2c9",
        genotype_dosing=_siponimod_genotype_dosing("US-PI §2" if us else "EU-SmPC §4.2"),
    )


def _siponimod_genotype_dosing(source: str) -> tuple[GenotypeDosing, ...]:
    """The titration and maintenance dose by CYP2C9 genotype (§3.7)."""
    return (
        GenotypeDosing(
            genotypes=("*1/*1", "*1/*2", "*2/*2"),
            titration="0.25 mg on days 1-2, 0.5 mg on day 3, 0.75 mg on day 4, 1.25 mg on day 5",
            maintenance="2 mg daily from day 6",
            source=source,
        ),
        GenotypeDosing(
            genotypes=("*1/*3", "*2/*3"),
            titration="0.25 mg on days 1-2, 0.5 mg on day 3, 0.75 mg on day 4",
            maintenance="1 mg daily from day 5",
            source=source,
        ),
        GenotypeDosing(
            genotypes=("*3/*3",),
            titration="",
            maintenance="Contraindicated: do not start",
            source=source,
            contraindicated=True,
        ),
    )


def _periodic_labs(region: Region, sources: tuple[str, ...]) -> tuple[MonitoringRule, ...]:
    verify = "Labels say 'periodically'; we align with siponimod: month 3, then every 6 months."
    return (
        rule(
            "cbc",
            "cbc",
            "Blood count with lymphocytes 3 months after starting, then every 6 months",
            sources,
            offsets=(3,),
            every=6,
            verify=verify,
        ),
        rule(
            "lft",
            "lft",
            "Liver tests 3 months after starting, then every 6 months",
            sources,
            offsets=(3,),
            every=6,
            verify=verify,
        ),
    )


def _transaminase_warnings(
    drug: str, source: str, *, below: float | None = None
) -> tuple[AlertRule, ...]:
    """ALT or AST above 3 × ULN (below the drug's own stop threshold, if it has one): review.

    The S1P labels stop the drug for liver injury without a number for the enzymes alone; a
    rise above 3 × ULN (CTCAE-v5 grade 2) is a WARNING so that the repeat is booked (§0.4)."""
    also = (Criterion("alt", Comparator.LE, below, ULN),) if below is not None else ()
    return alt_and_ast(
        alert(
            "alt_gt_3_uln",
            "alt",
            GT,
            3,
            ULN,
            WARNING,
            f"Repeat liver tests with bilirubin within a week; stop {drug} if liver injury.",
            source,
            also=also,
            verify="No label threshold for the enzymes alone: > 3 × ULN raises a WARNING "
            "(CTCAE-v5 grade 2)"
            + (f", up to the {below} × ULN stop rule." if below is not None else "."),
        )
    )


def _class_lymphocyte_alert(threshold_text: str, source: str, verify: str) -> AlertRule:
    return alert(
        "lymphocytes_lt_0_2",
        "lymphocytes",
        LT,
        0.2,
        ABS,
        CRITICAL,
        f"Interrupt until {threshold_text}, then consider restarting.",
        source,
        unit=CELLS,
        persistence="confirmed on repeat",
        verify=verify,
    )


def ozanimod(region: Region) -> Protocol:
    us = region == Region.US
    lbl = _lbl(region)
    clinic = ("US-PI §5" if us else "EU-SmPC §4.4", "Lit (neuro-outaouais clinic protocol)", "CK")
    return Protocol(
        drug_key="ozanimod",
        drug_name="Ozanimod",
        brands=("Zeposia",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.S1P_MODULATOR,
        route=Route.ORAL,
        schedule_text="0.23 mg days 1-4, 0.46 mg days 5-7, then 0.92 mg daily from day 8.",
        efficacy_category=EfficacyCategory.MODERATE_HIGH,
        atc_current="L04AE02",
        atc_former="L04AA38",
        atc_verified=True,
        sources=(lbl, "CH-FI", "CK"),
        baseline_checks=tuple(
            _baseline(
                region,
                eye_required=False,
                eye_note="With diabetes, uveitis or retinal disease.",
            )
        ),
        monitoring_rules=(
            _fdo_rule(region, 6),
            _fdo_restart_rule(
                6,
                (TreatmentGap(from_day=1, to_day=14, min_days=1),)
                if us
                else (
                    TreatmentGap(from_day=1, to_day=14, min_days=1),
                    TreatmentGap(from_day=15, to_day=28, min_days=8),
                    TreatmentGap(from_day=29, to_day=None, min_days=15),
                ),
                "a missed dose in the first 2 weeks"
                if us
                else "a gap of ≥ 1 day in days 1-14, > 7 days in days 15-28 or > 14 days later",
                "US-PI §2" if us else "EU-SmPC §4.2",
                "EU gap bands are '(verify)' in the reference; the label re-titrates and the "
                "observation is repeated for those who needed it at the start (verify).",
            ),
            rule(
                "cbc",
                "cbc",
                "Monthly blood count for 6 months, then every 4 months",
                clinic,
                offsets=(1, 2, 3, 4, 5, 6),
                every=4,
                verify="Labels say 'periodically'; we follow the published clinic protocol.",
            ),
            rule(
                "lft",
                "lft",
                "Monthly ALT and bilirubin for 6 months, then every 4 months",
                clinic,
                offsets=(1, 2, 3, 4, 5, 6),
                every=4,
                verify="Labels say 'periodically'; we follow the published clinic protocol.",
            ),
            _eye_rule(region, ("US-PI §5", "EU-SmPC §4.4", "CK")),
        ),
        dose_gates=(
            gate("ecg", Comparator.DONE, GateEvent.FIRST_DOSE, "Baseline ECG for all", lbl),
            pregnancy_gate(GateEvent.FIRST_DOSE, lbl),
        ),
        alert_rules=(
            _class_lymphocyte_alert(
                "> 0.5 ×10⁹/L",
                "EU-SmPC §4.4",
                "Interruption rule (< 0.2 until > 0.5) unconfirmed; kept as in the reference.",
            ),
            alert(
                "alt_gt_5_uln",
                "alt",
                GT,
                5,
                ULN,
                CRITICAL,
                "Stop ozanimod (also for liver injury).",
                "EU-SmPC §4.4; Lit (clinic protocol)",
                persistence="confirmed on repeat",
                verify="Stop threshold unconfirmed; we use > 5 × ULN confirmed.",
            ),
            alert(
                "ast_gt_5_uln",
                "ast",
                GT,
                5,
                ULN,
                CRITICAL,
                "Stop ozanimod (also for liver injury).",
                "EU-SmPC §4.4; Lit (clinic protocol)",
                persistence="confirmed on repeat",
                verify="The reference reads 'ALT/AST > 5 × ULN confirmed' (verify): AST as ALT.",
            ),
            *_transaminase_warnings("ozanimod", "EU-SmPC §4.4; CK", below=5),
            *_common_alerts(region),
        ),
        side_effects=(
            "Colds and chest infections",
            "Raised ALT",
            "Dizziness on standing",
            "Urinary infections",
            "Back pain",
            "High blood pressure",
            "Blurred vision (macular oedema)",
            "Mild slowing of heart rate on starting",
        ),
        visit_checks=(
            "Blood pressure at each visit (US-PI §5)",
            "Re-titrate after a gap (EU: ≥ 1 day in days 1-14, > 7 days in days 15-28, > 14 days "
            "after day 28; US: a missed dose in the first 2 weeks)",
            "Eye exam if visual symptoms; skin checks",
        ),
        switching_notes="Lymphocytes recover in about 30 days (median), 90% by 3 months (US-PI §12).",
        pregnancy=pregnancy(
            AVOID,
            "EU-SmPC §4.6; US-PI §8.3",
            "Effective contraception during treatment and for 3 months after the last dose",
        ),
        pregnancy_notes="Contraception for 3 months after the last dose; stop ≥ 3 months before conception.",
        interaction_notes=(
            "MAO inhibitors contraindicated (US); strong CYP2C8 inhibitors/inducers; BCRP "
            "inhibitors; avoid large amounts of tyramine."
        ),
        notes=(_qtc_note("ozanimod"),),
    )


PROTOCOLS: tuple[Protocol, ...] = tuple(
    factory(region) for factory in (siponimod, ozanimod) for region in (Region.US, Region.EU)
)

__all__ = ["PROTOCOLS"]
