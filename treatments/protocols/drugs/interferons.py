"""Interferon β products (§3.1): β-1a IM, β-1a SC, peginterferon β-1a, β-1b."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import (
    Condition,
    DrugClass,
    EfficacyCategory,
    Protocol,
    Region,
    Route,
)
from ._build import (
    ABS,
    ALLOWED,
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
    label,
    pregnancy,
    rule,
)


@dataclass(frozen=True)
class _Product:
    key: str
    name: str
    brands: tuple[str, ...]
    route: Route
    schedule: str
    atc: str
    atc_verified: bool


_PRODUCTS = (
    _Product(
        "interferon_beta_1a_im",
        "Interferon beta-1a (intramuscular)",
        ("Avonex",),
        Route.INTRAMUSCULAR,
        "30 µg IM once weekly (optional 4-week titration 7.5 → 30 µg).",
        "L03AB07",
        False,
    ),
    _Product(
        "interferon_beta_1a_sc",
        "Interferon beta-1a (subcutaneous)",
        ("Rebif",),
        Route.SUBCUTANEOUS,
        "22 or 44 µg SC three times a week (≥ 48 h apart); 4-week titration.",
        "L03AB07",
        False,
    ),
    _Product(
        "peginterferon_beta_1a",
        "Peginterferon beta-1a",
        ("Plegridy",),
        Route.SUBCUTANEOUS,
        "125 µg SC (or IM) every 2 weeks; titration 63 µg day 1 → 94 µg day 15 → 125 µg day 29.",
        "L03AB13",
        True,
    ),
    _Product(
        "interferon_beta_1b",
        "Interferon beta-1b",
        ("Betaseron", "Betaferon", "Extavia"),
        Route.SUBCUTANEOUS,
        "250 µg SC every other day; titration over about 3-6 weeks from 62.5 µg.",
        "L03AB08",
        False,
    ),
)


def _protocol(product: _Product, region: Region) -> Protocol:
    lbl = label(region)
    periodic = "'then every 6-12 months' is practice (CK); we take the shorter interval, 6 months."
    return Protocol(
        drug_key=product.key,
        drug_name=product.name,
        brands=product.brands,
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.INTERFERON,
        route=product.route,
        schedule_text=product.schedule,
        efficacy_category=EfficacyCategory.MODERATE,
        atc_current=product.atc,
        atc_verified=product.atc_verified,
        sources=(lbl, "CK", "France4MS-2021"),
        baseline_checks=(
            check("cbc", True, f"{lbl}; CK", note="With differential and platelets."),
            check("lft", False, f"{lbl}; CK"),
            check("tsh", False, f"{lbl}; CK"),
            check("pregnancy_test", False, "CK", note="Pregnancy status; not a contraindication."),
        ),
        monitoring_rules=(
            rule(
                "cbc",
                "cbc",
                "Blood count with differential and platelets at 1, 3 and 6 months, then every 6 "
                "months",
                (lbl, "CK"),
                offsets=(1, 3, 6),
                every=6,
                verify=periodic,
            ),
            rule(
                "lft",
                "lft",
                "Liver tests at 1, 3 and 6 months, then every 6 months",
                (lbl, "CK"),
                offsets=(1, 3, 6),
                every=6,
                verify=periodic,
            ),
            rule(
                "tsh",
                "tsh",
                "Yearly TSH",
                (lbl, "CK"),
                every=12,
                verify="TSH 'every 6-12 months'; yearly unless there is a thyroid history.",
            ),
            rule(
                "tsh_thyroid_history",
                "tsh",
                "Extra TSH between the yearly ones (6-monthly thyroid tests with a thyroid history)",
                (lbl, "CK"),
                offsets=(6,),
                every=12,
                when=(Condition.THYROID_HISTORY,),
            ),
        ),
        alert_rules=(
            alert(
                "alt_gt_5_uln",
                "alt",
                GT,
                5,
                ULN,
                CRITICAL,
                "Reduce the dose or interrupt; resume when normal; stop if jaundice or liver injury.",
                f"{label(region, '§2/§5')}; EU-SmPC §4.4",
            ),
            alert(
                "ast_gt_5_uln",
                "ast",
                GT,
                5,
                ULN,
                CRITICAL,
                "Reduce the dose or interrupt; resume when normal; stop if jaundice or liver injury.",
                f"{label(region, '§2/§5')}; EU-SmPC §4.4",
            ),
            *alt_and_ast(
                alert(
                    "alt_gt_3_uln", "alt", GT, 3, ULN, WARNING, "Repeat in 2-4 weeks; review.", "CK"
                )
            ),
            alert(
                "neutrophils_lt_1",
                "neutrophils",
                LT,
                1.0,
                ABS,
                WARNING,
                "Review, repeat, consider interruption.",
                "CK",
                unit=CELLS,
                verify="CTCAE G3 used; no label threshold confirmed.",
            ),
            alert(
                "platelets_lt_75",
                "platelets",
                LT,
                75,
                ABS,
                CRITICAL,
                "Urgent review; look for thrombotic microangiopathy (stop if TMA).",
                "EU-SmPC §4.4",
                unit=CELLS,
            ),
            alert("tsh_high", "tsh", GT, 1, ULN, WARNING, "Thyroid work-up.", "CK"),
            alert("tsh_low", "tsh", LT, 1, LLN, WARNING, "Thyroid work-up.", "CK"),
            event_alert(
                "suicidality",
                "Suicidal ideation or severe depression",
                CRITICAL,
                "Urgent review; consider stopping.",
                "US-PI §5",
            ),
        ),
        side_effects=(
            "Flu-like symptoms after injections",
            "Injection-site reactions (necrosis with SC products)",
            "Depression or suicidal thoughts",
            "Headache",
            "Liver injury",
            "Low white cells",
            "Thyroid problems",
            "Seizures",
            "Heart failure",
            "Thrombotic microangiopathy, nephrotic syndrome (oedema, hypertension, frothy urine)",
        ),
        visit_checks=(
            "Mood screen (depression, suicidality) at every visit (US-PI §5)",
            "Ask about oedema and check BP; urine protein and creatinine if oedema, hypertension "
            "or proteinuria (EU-SmPC §4.4)",
        ),
        switching_notes="No washout to or from other DMTs (France4MS-2021; CK).",
        pregnancy=pregnancy(
            ALLOWED,
            "EU-SmPC §4.6",
            verify="EU labels (2019) allow use in pregnancy when clinically needed; the US labels "
            "report no clear increase in major malformations (verify each product): not refused "
            "for a recorded pregnancy in either region.",
        ),
        pregnancy_notes=(
            "EU labels (2019) allow use in pregnancy and breastfeeding when clinically needed; "
            "US labels report no clear increase in major malformations (verify each product)."
        ),
        notes=(
            "Neutralising antibodies are optional (e.g. at 12 and 24 months or on breakthrough "
            "disease; CK, verify local practice) and are not scheduled.",
        ),
        has_doses=False,
    )


PROTOCOLS: tuple[Protocol, ...] = tuple(
    _protocol(product, region) for product in _PRODUCTS for region in (Region.US, Region.EU)
)

__all__ = ["PROTOCOLS"]
