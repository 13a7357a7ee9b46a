"""Ponesimod (an S1P receptor modulator): its protocol, built with the class's shared pieces in
`s1p_modulators`."""

from __future__ import annotations

from ..schema import (
    Comparator,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    Protocol,
    Region,
    Route,
    TreatmentGap,
)
from ._build import (
    AVOID,
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    ULN,
    VERSION,
    alert,
    check,
    gate,
    pregnancy,
    pregnancy_gate,
)
from .s1p_modulators import (
    _baseline,
    _class_lymphocyte_alert,
    _common_alerts,
    _eye_rule,
    _fdo_restart_rule,
    _fdo_rule,
    _lbl,
    _periodic_labs,
    _qtc_note,
    _transaminase_warnings,
)


def ponesimod(region: Region) -> Protocol:
    us = region == Region.US
    lbl = _lbl(region)
    eye_verify = "US: fundus exam for all (verify) — we require it in the US protocol."
    return Protocol(
        drug_key="ponesimod",
        drug_name="Ponesimod",
        brands=("Ponvory",),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.S1P_MODULATOR,
        route=Route.ORAL,
        schedule_text="14-day titration pack (2 mg → 10 mg), then 20 mg daily from day 15.",
        efficacy_category=EfficacyCategory.MODERATE_HIGH,
        atc_current="L04AE04",
        atc_former="L04AA50",
        atc_verified=False,
        sources=(lbl, "CK"),
        baseline_checks=tuple(
            [
                *_baseline(
                    region,
                    eye_required=us,
                    eye_note=eye_verify if us else "With diabetes, uveitis or retinal disease.",
                ),
                check("skin_exam", False, lbl),
            ]
        ),
        monitoring_rules=(
            _fdo_rule(
                region,
                4,
                verify="4-hour observation (US-PI §2) unconfirmed; HR nadir is 2-4 h after the "
                "dose, so 4 h covers it.",
            ),
            _fdo_restart_rule(
                4,
                (TreatmentGap(from_day=1, to_day=None, min_days=4),),
                "4 or more consecutive missed doses",
                "US-PI §2" if us else "EU-SmPC §4.2",
                "Fewer than 4 missed titration doses resume at the first missed dose (no "
                "restart). The observation is repeated for those who needed it at the start "
                "(verify).",
            ),
            *_periodic_labs(region, (lbl, "CK")),
            _eye_rule(region, (lbl, "CK")),
        ),
        dose_gates=(
            gate("ecg", Comparator.DONE, GateEvent.FIRST_DOSE, "Baseline ECG for all", lbl),
            pregnancy_gate(GateEvent.FIRST_DOSE, lbl),
        ),
        alert_rules=(
            _class_lymphocyte_alert(
                "recovery",
                "CK (S1P class rule)",
                "No numeric threshold confirmed in the ponesimod labels; class rule used as clinic "
                "policy.",
            ),
            alert(
                "alt_gt_5_uln",
                "alt",
                GT,
                5,
                ULN,
                CRITICAL,
                "Stop (liver injury, as for other S1P modulators).",
                "CK (S1P class)",
                persistence="confirmed on repeat",
            ),
            alert(
                "ast_gt_5_uln",
                "ast",
                GT,
                5,
                ULN,
                CRITICAL,
                "Stop (liver injury, as for other S1P modulators).",
                "CK (S1P class)",
                persistence="confirmed on repeat",
            ),
            *_transaminase_warnings("ponesimod", "CK (S1P class)", below=5),
            *_common_alerts(region),
        ),
        side_effects=(
            "Colds and chest infections",
            "Raised liver enzymes",
            "High blood pressure",
            "Breathlessness",
            "Slow heart rate on starting",
            "Blurred vision (macular oedema)",
        ),
        visit_checks=(
            "Blood pressure at each visit",
            "≥ 4 consecutive missed doses: restart titration from day 1 (US-PI §2; EU-SmPC §4.2)",
            "Pause 1-2 weeks before and until 4 weeks after a live vaccine",
        ),
        switching_notes="Lymphocytes recover within about 1 week (90%).",
        pregnancy=pregnancy(
            AVOID,
            "US-PI §8.3; EU-SmPC §4.6",
            "Effective contraception during treatment and for 1 week after the last dose",
        ),
        pregnancy_notes="Contraception for 1 week after the last dose.",
        notes=(_qtc_note("ponesimod"),),
    )


PROTOCOLS: tuple[Protocol, ...] = tuple(ponesimod(region) for region in (Region.US, Region.EU))

__all__ = ["PROTOCOLS"]
