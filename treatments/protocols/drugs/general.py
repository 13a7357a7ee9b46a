"""Duties of every patient on a DMT, whatever the drug (§8.1, §10)."""

from __future__ import annotations

from ..schema import Criterion, DrugClass, EfficacyCategory, Protocol, Region, Route
from ._build import (
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    THREE_MONTHS_DAYS,
    ULN,
    VERSION,
    alert,
    check,
    rule,
)

DRUG_KEY = "general"


def _protocol(region: Region) -> Protocol:
    return Protocol(
        drug_key=DRUG_KEY,
        drug_name="Every DMT plan",
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.NONE,
        route=Route.NONE,
        schedule_text="Clinic reviews and MRI for every active patient, whatever the drug.",
        efficacy_category=EfficacyCategory.NOT_APPLICABLE,
        sources=("NICE-NG220", "ABN-2024", "MAGNIMS-2021", "CK"),
        baseline_checks=(
            check("neuro_review", False, "CK", note="Baseline EDSS."),
            check(
                "mri_brain",
                False,
                "MAGNIMS-2021",
                within_days=THREE_MONTHS_DAYS,
                note="Recent brain MRI before starting or switching.",
            ),
        ),
        monitoring_rules=(
            rule(
                "neuro_review",
                "neuro_review",
                "Neurology review with EDSS (clinic interval)",
                ("ABN-2024", "NICE-NG220", "CK"),
                interval_setting="review_interval_months",
                before=28,
                after=28,
            ),
            rule(
                "mri_rebaseline",
                "mri_brain",
                "Re-baseline brain MRI 3-6 months after starting a DMT",
                "MAGNIMS-2021",
                offsets=(6,),
                before=92,
                after=30,
                verify="Due at 6 months with the window opening at 3 months, so slower-acting "
                "drugs are not flagged overdue before they have had time to work.",
            ),
            rule(
                "mri_yearly",
                "mri_brain",
                "Yearly brain MRI after the re-baseline scan",
                "MAGNIMS-2021",
                every=12,
                start=18,
                before=30,
                after=30,
                verify="Yearly counted from the re-baseline scan (months 18, 30, ...).",
            ),
        ),
        # Hy's law (§0.4, corrected 2026-11): ALT *or* AST > 3 × ULN with total bilirubin
        # > 2 × ULN, on any drug or none; evaluated by treatments.safety.hys_law.hys_law_spec.
        alert_rules=(
            alert(
                "hys_law",
                "alt",
                GT,
                3,
                ULN,
                CRITICAL,
                "Hy's law pattern: stop the drug unless another cause is found; urgent review.",
                "FDA DILI guidance 2009; CK; DHPC-2020",
                also=(Criterion("bilirubin", GT, 2, ULN),),
            ),
            alert(
                "hys_law_ast",
                "ast",
                GT,
                3,
                ULN,
                CRITICAL,
                "Hy's law pattern: stop the drug unless another cause is found; urgent review.",
                "FDA DILI guidance 2009; CK; DHPC-2020",
                also=(Criterion("bilirubin", GT, 2, ULN),),
            ),
        ),
        notes=(
            "Apply alongside the drug protocol, with the same plan events. The review interval is "
            "a clinic setting of 3-6 months (engine parameter review_interval_months).",
        ),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
