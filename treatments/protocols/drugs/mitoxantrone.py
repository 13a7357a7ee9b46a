"""Mitoxantrone (§3.17): pre-dose cardiac and blood checks, and long-term surveillance."""

from __future__ import annotations

from ..schema import (
    Anchor,
    Applies,
    BsaDosing,
    Comparator,
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
    BASE,
    CELLS,
    CONTRAINDICATED,
    CRITICAL,
    EFFECTIVE_FROM,
    GATE,
    GE,
    GT,
    LE,
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
    pregnancy_gate,
    rule,
)

_SOURCE = "US-PI §5"


def _before_next_dose(key: str, investigation: str, text: str) -> MonitoringRule:
    return rule(
        key,
        investigation,
        f"{text} before the next dose (every 3 months)",
        _SOURCE,
        anchor=Anchor.LAST_DOSE,
        offsets=(3,),
        before=21,
        after=0,
    )


def _protocol(region: Region) -> Protocol:
    return Protocol(
        drug_key="mitoxantrone",
        drug_name="Mitoxantrone",
        brands=("Novantrone",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.CYTOTOXIC,
        route=Route.INTRAVENOUS,
        schedule_text="12 mg/m² IV every 3 months; lifetime maximum 140 mg/m².",
        efficacy_category=EfficacyCategory.HIGH,
        atc_current="L01DB07",
        atc_verified=False,
        sources=(_SOURCE, "US-PI §2", "France4MS-2021", "CK"),
        baseline_checks=(
            check("echo_lvef", True, _SOURCE, note="Do not start if LVEF < 50%."),
            check("ecg", True, _SOURCE),
            check("cbc", True, _SOURCE, note="ANC ≥ 1.5 ×10⁹/L."),
            check("lft", True, _SOURCE),
            check("pregnancy_test", True, _SOURCE),
        ),
        monitoring_rules=(
            _before_next_dose("lvef_before_dose", "echo_lvef", "LVEF (echo or MUGA)"),
            _before_next_dose("cbc_before_dose", "cbc", "Blood count with differential"),
            _before_next_dose("lft_before_dose", "lft", "Liver tests"),
            _before_next_dose("pregnancy_before_dose", "pregnancy_test", "Pregnancy test"),
            rule(
                "lvef_yearly_after_stop",
                "echo_lvef",
                "Yearly LVEF after stopping mitoxantrone (late cardiotoxicity)",
                _SOURCE,
                anchor=Anchor.STOP,
                every=12,
                start=12,
            ),
            rule(
                "cbc_leukaemia_surveillance",
                "cbc",
                "Blood count every 6 months for 5 years after stopping (therapy-related leukaemia)",
                "CK",
                anchor=Anchor.STOP,
                every=6,
                start=6,
                until=Until(Anchor.STOP, 60),
                verify="'6-12-monthly for ≥ 5 years' (verify local): we take 6-monthly for 5 years.",
            ),
        ),
        dose_gates=(
            gate(
                "echo_lvef",
                GE,
                GateEvent.EACH_DOSE,
                "LVEF ≥ 50% before every dose",
                _SOURCE,
                analyte="lvef",
                threshold=50,
                unit="%",
                within_days=21,
            ),
            gate(
                "echo_lvef",
                GT,
                GateEvent.EACH_DOSE,
                "No fall in LVEF of 10 percentage points or more from baseline before every dose",
                _SOURCE,
                analyte="lvef",
                threshold=-10,
                relative_to=BASE,
                unit="percentage points",
                within_days=21,
                from_occurrence=2,
                verify="'A clinically significant fall (e.g. ≥ 10 percentage points)': we refuse "
                "a fall of 10 points or more from the last LVEF on or before the first dose. "
                "The first dose has no baseline to fall from; its LVEF must be ≥ 50%.",
            ),
            gate(
                "cbc",
                GE,
                GateEvent.EACH_DOSE,
                "Neutrophils ≥ 1.5 ×10⁹/L before every dose",
                _SOURCE,
                analyte="neutrophils",
                threshold=1.5,
                unit=CELLS,
                within_days=21,
            ),
            gate(
                "lft",
                Comparator.NORMAL,
                GateEvent.EACH_DOSE,
                "Normal liver tests before every dose",
                _SOURCE,
                within_days=21,
            ),
            pregnancy_gate(GateEvent.EACH_DOSE, _SOURCE),
        ),
        alert_rules=(
            # Cardiotoxicity findings once the drug has been given, on treatment and in the yearly
            # checks after stopping (late cardiotoxicity). While a dose can be given the dose
            # gate also reports a value below 50% as a blocked dose: two findings, two actions.
            alert(
                "lvef_lt_50",
                "lvef",
                LT,
                50,
                ABS,
                CRITICAL,
                "Cardiotoxicity: no further mitoxantrone; cardiology review.",
                _SOURCE,
                unit="%",
                applies=Applies.AFTER_FIRST_DOSE,
            ),
            alert(
                "lvef_fall_10_points",
                "lvef",
                LE,
                -10,
                BASE,
                CRITICAL,
                "Clinically significant fall (≥ 10 percentage points from the LVEF before the "
                "first dose): no further mitoxantrone; cardiology review.",
                _SOURCE,
                unit="percentage points",
                applies=Applies.AFTER_FIRST_DOSE,
                verify="'A clinically significant fall (e.g. ≥ 10 percentage points)': we take "
                "≥ 10 points below the last LVEF on or before the first dose.",
            ),
            alert(
                "neutrophils_lt_1_5",
                "neutrophils",
                LT,
                1.5,
                ABS,
                GATE,
                "Do not give.",
                _SOURCE,
                unit=CELLS,
            ),
            alert(
                "lft_abnormal",
                "lft",
                Comparator.ABNORMAL,
                None,
                ABS,
                GATE,
                "Do not give (MS).",
                _SOURCE,
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    WARNING,
                    "Abnormal liver function: do not give the next dose until reviewed (MS).",
                    "US-PI §5; CK",
                    verify=(
                        "The label's gate is 'abnormal liver function' without a number (the "
                        "liver-test gate blocks the dose); ALT or AST > 3 × ULN also raises a "
                        "WARNING so that the rise is reviewed between doses."
                    ),
                )
            ),
            event_alert(
                "cumulative_dose",
                "Cumulative dose ≥ 140 mg/m², or the next dose would exceed it",
                GATE,
                "No further doses.",
                "US-PI §2/§5",
            ),
            event_alert(
                "cytopenia_after_treatment",
                "Unexplained cytopenia after treatment",
                CRITICAL,
                "Haematology (therapy-related AML).",
                _SOURCE,
            ),
        ),
        side_effects=(
            "Heart failure",
            "Leukaemia (years later)",
            "Low blood counts, infections",
            "Missed periods, infertility",
            "Hair loss, nausea",
            "Blue-green urine or whites of the eyes",
            "Injury at the infusion site",
        ),
        visit_checks=("Record the cumulative dose (mg/m²) at each dose (US-PI §2)",),
        switching_notes="About 6 months before another second-line DMT (France4MS-2021).",
        pregnancy=pregnancy(
            CONTRAINDICATED,
            _SOURCE,
            "Effective contraception during treatment and for at least 6 months after the last "
            "dose",
            verify="The contraception period is unconfirmed (§6, verify): we ask for 6 months.",
        ),
        pregnancy_notes=(
            "Contraindicated; pregnancy test before each dose (contraception ≥ 6 months after — "
            "verify)."
        ),
        notes=(
            ()
            if region == Region.US
            else ("EU: national authorisations only (verify); the US label rules are applied.",)
        ),
        has_doses=True,
        authorised_in_region=True,
        bsa_dosing=BsaDosing(
            usual_mg_m2=12,
            max_cumulative_mg_m2=140,
            text="Lifetime cumulative dose at most 140 mg/m²: a dose that would pass it is refused",
            source="US-PI §2/§5",
            verify_note="Counted over all the patient's mitoxantrone plans recorded here; doses "
            "given elsewhere are not known to Myelin, so an earlier dose without mg/m² makes "
            "the total unknown and is refused until a neurologist overrides it.",
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
