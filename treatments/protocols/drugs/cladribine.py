"""Cladribine tablets (§3.16): lymphocyte counts 2 and 6 months after the start of each course."""

from __future__ import annotations

from ..schema import (
    Anchor,
    Comparator,
    CourseDelayLimit,
    CourseLimit,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    Protocol,
    Region,
    Route,
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
    LLN,
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
    pregnancy,
    pregnancy_alert,
    pregnancy_gate,
    rule,
)

_GATE_WINDOW_DAYS = 30


def _protocol(region: Region) -> Protocol:
    us = region == Region.US
    lbl = "US-PI §2/§5" if us else "EU-SmPC §4.2/§4.4"
    return Protocol(
        drug_key="cladribine",
        drug_name="Cladribine tablets",
        brands=("Mavenclad",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.PURINE_ANALOGUE,
        route=Route.ORAL,
        schedule_text=(
            "3.5 mg/kg over 2 years: one course a year of 1.75 mg/kg, given as 2 treatment weeks "
            "(start of month 1 and month 2) of 4-5 days each."
        ),
        efficacy_category=EfficacyCategory.HIGH,
        atc_current="L04AA40",
        atc_verified=False,
        sources=(lbl, "NICE-NG220", "Lit (PMC10444734)", "France4MS-2021"),
        baseline_checks=(
            check("lymphocytes", True, lbl, note="Normal before course 1."),
            check("hiv", True, lbl, note="Contraindicated if positive."),
            check("hbsag", True, lbl),
            check("anti_hbc", True, lbl),
            check("hcv_ab", True, lbl),
            check("tb_igra", True, lbl),
            check("vzv_igg", True, lbl, note="Vaccinate negatives; delay 4-6 weeks."),
            check(
                "mri_brain",
                True,
                lbl,
                within_days=THREE_MONTHS_DAYS,
                note="PML reference scan within 3 months before course 1.",
            ),
            check("lft", True, "EU-SmPC §4.4" if not us else "CK", note="Before each course."),
            check("pregnancy_test", True, lbl, note="Before each course."),
        ),
        monitoring_rules=(
            rule(
                "lymphocytes_2_6m",
                "lymphocytes",
                "Lymphocyte count 2 and 6 months after the start of each course",
                lbl,
                anchor=Anchor.EACH_COURSE,
                offsets=(2, 6),
                before=7,
                after=14,
                # The tablets have been taken: a plan stop does not end the count's purpose.
                survives_stop=True,
            ),
            rule(
                "lymphocytes_before_course_2",
                "lymphocytes",
                "Lymphocyte count before course 2 (must be ≥ 0.8 ×10⁹/L)",
                lbl,
                anchor=Anchor.EACH_COURSE,
                offsets=(12,),
                before=28,
                after=0,
                anchor_limit=1,
            ),
            rule(
                "lft_before_course_2",
                "lft",
                "Liver tests before course 2",
                "EU-SmPC §4.4" if not us else ("EU-SmPC §4.4", "CK"),
                anchor=Anchor.EACH_COURSE,
                offsets=(12,),
                before=28,
                after=0,
                anchor_limit=1,
            ),
        ),
        dose_gates=(
            gate(
                "lymphocytes",
                GE,
                GateEvent.EACH_COURSE,
                "Lymphocytes within normal limits before course 1",
                lbl,
                threshold=1,
                relative_to=LLN,
                within_days=_GATE_WINDOW_DAYS,
                to_occurrence=1,
                verify="No result age given: we ask for a count within 30 days (CK).",
            ),
            gate(
                "lymphocytes",
                GE,
                GateEvent.EACH_COURSE,
                "Lymphocytes ≥ 0.8 ×10⁹/L before course 2 (delay up to 6 months otherwise)",
                lbl,
                threshold=0.8,
                unit=CELLS,
                within_days=_GATE_WINDOW_DAYS,
                from_occurrence=2,
                to_occurrence=2,
            ),
            gate(
                "lft",
                Comparator.DONE,
                GateEvent.EACH_COURSE,
                "Liver tests before each course",
                "EU-SmPC §4.4",
                within_days=_GATE_WINDOW_DAYS,
            ),
            gate(
                "hiv",
                Comparator.NEGATIVE,
                GateEvent.FIRST_DOSE,
                "HIV negative (contraindicated if positive)",
                lbl,
            ),
            pregnancy_gate(GateEvent.EACH_COURSE, lbl),
        ),
        alert_rules=(
            alert(
                "lymphocytes_lt_0_8_before_course_2",
                "lymphocytes",
                LT,
                0.8,
                ABS,
                GATE,
                "Delay course 2 (up to 6 months).",
                lbl,
                unit=CELLS,
            ),
            event_alert(
                "course_2_delay_exceeded",
                "Lymphocytes not ≥ 0.8 ×10⁹/L within 6 months of delaying course 2",
                CRITICAL,
                "Do not give further cladribine.",
                "EU-SmPC §4.2",
            ),
            alert(
                "lymphocytes_lt_0_2",
                "lymphocytes",
                LT,
                0.2,
                ABS,
                CRITICAL,
                "Anti-herpes prophylaxis for as long as grade 4 lymphopenia lasts.",
                "EU-SmPC §4.4; US-PI §5",
                unit=CELLS,
            ),
            alert(
                "lymphocytes_lt_0_5_month_2",
                "lymphocytes",
                LT,
                0.5,
                ABS,
                WARNING,
                "Monitor actively (e.g. monthly) until the count rises.",
                "EU-SmPC §4.4",
                unit=CELLS,
                at_rule="lymphocytes_2_6m",
                at_occurrence=2,
            ),
            event_alert(
                "liver_injury",
                "Unexplained liver enzyme rise or liver symptoms",
                CRITICAL,
                "Interrupt or stop.",
                "EU-SmPC §4.4",
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    WARNING,
                    "Measure ALT, AST and bilirubin promptly; if the rise is unexplained, "
                    "interrupt or stop cladribine.",
                    "EU-SmPC §4.4; CK",
                    verify=(
                        "'Unexplained rise' needs the clinician: a value > 3 × ULN (CTCAE-v5 "
                        "grade 2) raises a WARNING; the CRITICAL 'interrupt or stop' is the "
                        "clinical event, and Hy's law is CRITICAL on its own."
                    ),
                )
            ),
            pregnancy_alert("US-PI boxed warning", "Stop; counsel."),
        ),
        side_effects=(
            "Low lymphocytes",
            "Shingles",
            "Other infections (TB, rarely PML)",
            "Cancer (boxed warning, US)",
            "Rash, hair loss",
            "Liver injury (rare)",
        ),
        visit_checks=(
            "Cancer screening per national programmes (US-PI §5)",
            "Women on hormonal contraception add a barrier method during each course and for 4 "
            "weeks after",
        ),
        switching_notes=(
            "From year 3, another DMT only if disease activity (France4MS-2021). Before starting "
            "cladribine after an S1P modulator, natalizumab or a fumarate: wait for a normal "
            "lymphocyte count (CK)."
        ),
        pregnancy=pregnancy(
            CONTRAINDICATED,
            "US-PI §8.3" if us else "EU-SmPC §4.6",
            "Effective contraception (women and men) during treatment and for at least 6 months "
            "after the last dose of each yearly course",
            men=True,
        ),
        pregnancy_notes=(
            "Contraindicated. Women and men: contraception during treatment and for ≥ 6 months "
            "after the last dose of each yearly course."
        ),
        notes=(
            "US: safety of more than 2 courses not established — do not re-treat beyond 2 courses "
            "within 2 years (verify wording)."
            if us
            else "EU: no treatment in years 3 and 4.",
        ),
        has_courses=True,
        course_limit=CourseLimit(
            max_courses=2,
            text="Two yearly courses in all (3.5 mg/kg over 2 years): a third course is refused",
            source="US-PI §2" if us else "EU-SmPC §4.2",
            verify_note=(
                "The US label: safety of more than 2 courses not established, do not re-treat in "
                "the 2 years after course 2 (verify wording). We refuse a third course at any "
                "time, counted over all the patient's cladribine plans; a neurologist may "
                "override with a reason."
                if us
                else "EU: no treatment in years 3 and 4; re-treatment after year 4 is not "
                "studied. We refuse a third course at any time, counted over all the patient's "
                "cladribine plans; a neurologist may override with a reason."
            ),
        ),
        course_delay=CourseDelayLimit(
            course=2,
            interval_months=12,
            max_delay_months=6,
            analyte="lymphocytes",
            threshold=0.8,
            unit=CELLS,
            text=(
                "Course 2 may wait at most 6 months past its planned date (12 months after "
                "course 1) for lymphocytes to recover to ≥ 0.8 ×10⁹/L; if they have not, no "
                "further cladribine"
            ),
            source="EU-SmPC §4.2",
            window_days_before=_GATE_WINDOW_DAYS,
            verify_note=(
                "Recovery in time = a lymphocyte count ≥ 0.8 ×10⁹/L taken from 30 days before "
                "the planned date (the course-2 gate's window) to 6 months after it."
                + (
                    " The reference cites this rule from the EU label; we apply it in the US "
                    "protocol too (verify US-PI §2)."
                    if us
                    else ""
                )
            ),
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
