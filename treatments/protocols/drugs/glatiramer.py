"""Glatiramer acetate (§3.2): no routine laboratory monitoring."""

from __future__ import annotations

from ..schema import DrugClass, EfficacyCategory, Protocol, Region, Route
from ._build import (
    ALLOWED,
    CRITICAL,
    EFFECTIVE_FROM,
    GT,
    ULN,
    VERSION,
    WARNING,
    alert,
    alt_and_ast,
    check,
    event_alert,
    pregnancy,
)


def _protocol(region: Region) -> Protocol:
    anaphylaxis_source = "FDA-DSC-2025" if region == Region.US else "FDA-DSC-2025; CK"
    return Protocol(
        drug_key="glatiramer",
        drug_name="Glatiramer acetate",
        brands=("Copaxone", "Glatopa"),
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.IMMUNOMODULATOR,
        route=Route.SUBCUTANEOUS,
        schedule_text="20 mg SC daily or 40 mg SC three times a week (≥ 48 h apart).",
        efficacy_category=EfficacyCategory.MODERATE,
        atc_current="L03AX13",
        sources=("US-PI" if region == Region.US else "EU-SmPC", "FDA-DSC-2025", "CK"),
        baseline_checks=(
            check("pregnancy_test", False, "CK", note="Pregnancy status."),
            check("lft", False, "CK", note="Optional."),
        ),
        monitoring_rules=(),
        alert_rules=(
            event_alert(
                "anaphylaxis",
                "Anaphylaxis (wheeze, breathing difficulty, swelling of face, lips or throat, "
                "hives), usually within 1 h of an injection, even after years of use",
                CRITICAL,
                "Emergency care; stop permanently unless another clear cause is found.",
                anaphylaxis_source,
            ),
            event_alert(
                "post_injection_reaction",
                "Immediate post-injection reaction (flushing, chest tightness, palpitations, "
                "breathlessness)",
                WARNING,
                "Educate; if worse, prolonged or not resolving, treat as possible anaphylaxis.",
                "FDA-DSC-2025; US-PI §5",
            ),
            event_alert(
                "skin_necrosis",
                "Skin necrosis or marked lipoatrophy",
                WARNING,
                "Review injection technique; consider a switch.",
                "US-PI §5",
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln",
                    "alt",
                    GT,
                    3,
                    ULN,
                    CRITICAL,
                    "Stop; investigate for hepatic injury (also if jaundice).",
                    "US-PI §5",
                    verify=(
                        "The US hepatic-injury section is unconfirmed, so this is an alert on "
                        "results taken for symptoms only; no LFTs are scheduled. AST is read like "
                        "ALT (§0.4)."
                    ),
                )
            ),
        ),
        side_effects=(
            "Injection-site reactions",
            "Lipoatrophy",
            "Immediate post-injection reaction",
            "Chest pain",
            "Anaphylaxis (any time, even after years)",
            "Liver problems (rare)",
        ),
        visit_checks=(
            "Review injection sites (lipoatrophy, necrosis)",
            "Ask about post-injection reactions; re-teach the signs of anaphylaxis (FDA-DSC-2025)",
        ),
        switching_notes="No washout to or from other DMTs (France4MS-2021; CK).",
        pregnancy=pregnancy(
            ALLOWED,
            "EU-SmPC §4.6; CK",
            verify="'May be continued where clinically needed' (verify the label wording): not "
            "refused for a recorded pregnancy.",
        ),
        pregnancy_notes=(
            "May be continued in pregnancy where clinically needed (EU-SmPC §4.6 updated; verify)."
        ),
        notes=("No mandatory laboratory monitoring (US-PI; EU-SmPC).",),
    )


PROTOCOLS: tuple[Protocol, ...] = (_protocol(Region.US), _protocol(Region.EU))
