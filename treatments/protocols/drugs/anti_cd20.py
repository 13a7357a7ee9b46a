"""Anti-CD20 antibodies: ocrelizumab IV and SC (§3.11), ofatumumab (§3.12), ublituximab (§3.13)
and off-label rituximab (§3.14).

Pre-dose checks are anchored to the most recent dose (``last_dose``), so a late or early dose
resets them, as the label resets the schedule after a missed dose. Split first doses (day 1 and
day 15) count as one administration (``anchor_merge_days``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import (
    AlertRule,
    Anchor,
    BaselineCheck,
    Comparator,
    DoseGate,
    DrugClass,
    EfficacyCategory,
    GateEvent,
    MonitoringRule,
    PeriodUnit,
    PregnancyRule,
    Protocol,
    Region,
    Route,
)
from ._build import (
    ABS,
    AVOID,
    CELLS,
    CRITICAL,
    EFFECTIVE_FROM,
    GATE,
    LLN,
    LT,
    VERSION,
    WARNING,
    alert,
    check,
    event_alert,
    gate,
    pml_symptoms_alert,
    pregnancy,
    pregnancy_gate,
    rule,
)

_SPLIT_DOSE_MERGE_DAYS = 21


@dataclass(frozen=True)
class _Product:
    key: str
    name: str
    brands: tuple[str, ...]
    route: Route
    schedule: str
    atc: str
    atc_former: str
    atc_verified: bool
    interval: int | None
    """Dosing interval (in ``interval_unit``) for the pre-dose checks; None = no recorded doses."""
    interval_unit: PeriodUnit = PeriodUnit.MONTHS
    off_label: bool = False


_OCRELIZUMAB_IV = _Product(
    "ocrelizumab_iv",
    "Ocrelizumab (intravenous)",
    ("Ocrevus",),
    Route.INTRAVENOUS,
    "300 mg IV day 1 + 300 mg day 15, then 600 mg IV every 6 months (24 weeks).",
    "L04AG08",
    "L04AA36",
    True,
    24,
    PeriodUnit.WEEKS,
)
_OCRELIZUMAB_SC = _Product(
    "ocrelizumab_sc",
    "Ocrelizumab (subcutaneous)",
    ("Ocrevus SC", "Ocrevus Zunovo"),
    Route.SUBCUTANEOUS,
    "920 mg SC every 6 months.",
    "L04AG08",
    "L04AA36",
    True,
    6,
)
_OFATUMUMAB = _Product(
    "ofatumumab",
    "Ofatumumab",
    ("Kesimpta",),
    Route.SUBCUTANEOUS,
    "20 mg SC at weeks 0, 1 and 2, then monthly from week 4 (self-injected).",
    "L04AG12",
    "L04AA52",
    False,
    None,
)
_UBLITUXIMAB = _Product(
    "ublituximab",
    "Ublituximab",
    ("Briumvi",),
    Route.INTRAVENOUS,
    "150 mg IV day 1 (≈ 4 h), 450 mg IV day 15 (≈ 1 h), then 450 mg IV every 24 weeks "
    "(≥ 5 months apart).",
    "L04AG14",
    "",
    False,
    24,
    PeriodUnit.WEEKS,
)
_RITUXIMAB = _Product(
    "rituximab",
    "Rituximab (off-label)",
    ("MabThera", "Rituxan", "biosimilars"),
    Route.INTRAVENOUS,
    "Off-label; e.g. 1000 mg IV × 2 two weeks apart (or 500-1000 mg once), then 500-1000 mg "
    "every 6 months (varies by centre).",
    "L01FA01",
    "",
    False,
    6,
    off_label=True,
)


def _lbl(product: _Product, region: Region) -> str:
    if product.off_label:
        return "CK"
    return "US-PI §5" if region == Region.US else "EU-SmPC §4.4"


def _baseline(product: _Product, region: Region) -> tuple[BaselineCheck, ...]:
    us = region == Region.US
    lbl = _lbl(product, region)
    checks = [
        check(
            "hbsag",
            True,
            "US-PI §4" if not product.off_label else "CK",
            note="Active HBV = contraindicated.",
        ),
        check("anti_hbc", True, "US-PI §5" if not product.off_label else "CK"),
        check(
            "immunoglobulins",
            us and not product.off_label,
            "US-PI §2" if us and not product.off_label else "CK",
        ),
        check("cbc", True, lbl),
        check("vzv_igg", False, "CK", note="Advisable; vaccinate negatives."),
        check("pregnancy_test", True, lbl),
    ]
    if product is _UBLITUXIMAB:
        checks.append(
            check("lft", us, "US-PI §2.1" if us else "CK", note="ALT, AST, ALP, bilirubin.")
        )
    if product.off_label:
        checks += [
            check("hiv", False, "CK", note="Per local policy."),
            check("hcv_ab", False, "CK", note="Per local policy."),
        ]
    return tuple(checks)


def _immunoglobulins_after_stop(product: _Product) -> MonitoringRule:
    """Immunoglobulins after stopping until B cells have recovered, where the label says so
    (§3.11 ocrelizumab US-PI §5; §3.12 ofatumumab EU-SmPC §4.4, added 2026-11; ublituximab and
    rituximab 'as for ocrelizumab')."""
    if product is _OFATUMUMAB:
        return rule(
            "immunoglobulins_after_stop",
            "immunoglobulins",
            "Immunoglobulins after stopping ofatumumab, until B cells have recovered (median "
            "about 24-36 weeks)",
            ("EU-SmPC §4.4",),
            anchor=Anchor.STOP,
            offsets=(6, 12),
            verify="'Until B cells have recovered' (EU-SmPC §4.4; the US label is not confirmed "
            "to say so, and we apply it in both regions): recovery is faster than after "
            "ocrelizumab (median ~24-36 weeks, verify), so we check at 6 and 12 months.",
        )
    sources = {
        _RITUXIMAB.key: ("CK",),
        _UBLITUXIMAB.key: ("US-PI §5", "CK"),
    }.get(product.key, ("US-PI §5", "CK"))
    return rule(
        "immunoglobulins_after_stop",
        "immunoglobulins",
        "Immunoglobulins after stopping, until B cells replete (median about 72 weeks)",
        sources,
        anchor=Anchor.STOP,
        offsets=(6, 12, 18),
        verify="'Until B-cell repletion': we check at 6, 12 and 18 months after stopping"
        + ("" if product in (_OCRELIZUMAB_IV, _OCRELIZUMAB_SC) else " (as for ocrelizumab)")
        + ".",
    )


def _rules(product: _Product, region: Region) -> tuple[MonitoringRule, ...]:
    rules: list[MonitoringRule] = [
        rule(
            "immunoglobulins",
            "immunoglobulins",
            "Yearly immunoglobulins (IgG, IgM)",
            ("US-PI §5", "CK"),
            every=12,
            verify="'Before each dose or yearly' (practice): we take yearly.",
        ),
        _immunoglobulins_after_stop(product),
    ]
    if product.interval is None:
        rules.append(
            rule(
                "cbc",
                "cbc",
                "Yearly blood count",
                "CK",
                every=12,
                verify="'Periodically': we take yearly.",
            )
        )
        return tuple(rules)
    rules.append(
        rule(
            "cbc_before_dose",
            "cbc",
            "Blood count with neutrophils before the next dose (late-onset neutropenia)",
            "CK",
            anchor=Anchor.LAST_DOSE,
            unit=product.interval_unit,
            offsets=(product.interval,),
            before=28,
            after=0,
            merge_days=_SPLIT_DOSE_MERGE_DAYS,
        )
    )
    return tuple(rules)


def _gates(product: _Product, region: Region) -> tuple[DoseGate, ...]:
    gates = [
        gate(
            "hbsag",
            Comparator.NEGATIVE,
            GateEvent.FIRST_DOSE,
            "HBsAg negative (active hepatitis B is a contraindication)",
            "US-PI §4" if not product.off_label else "CK",
        ),
        pregnancy_gate(GateEvent.FIRST_DOSE, _lbl(product, region)),
    ]
    if product is _UBLITUXIMAB and region == Region.US:
        gates.append(pregnancy_gate(GateEvent.EACH_DOSE, "US-PI §2.1"))
    return tuple(gates)


def _alerts(product: _Product, region: Region) -> tuple[AlertRule, ...]:
    alerts = [
        alert(
            "hbsag_positive",
            "hbsag",
            Comparator.POSITIVE,
            None,
            ABS,
            GATE,
            "Do not start (contraindicated).",
            "US-PI §4",
        ),
        alert(
            "anti_hbc_positive",
            "anti_hbc",
            Comparator.POSITIVE,
            None,
            ABS,
            WARNING,
            "Hepatology before and during treatment; antiviral prophylaxis or HBV DNA monitoring.",
            "US-PI §5",
        ),
        alert(
            "igg_lt_lln",
            "igg",
            LT,
            1,
            LLN,
            WARNING,
            "With recurrent or serious infections: consider IVIG, a longer interval, or a switch.",
            "US-PI §5; CK",
        ),
        alert(
            "neutrophils_lt_1",
            "neutrophils",
            LT,
            1.0,
            ABS,
            WARNING,
            "Review; delay the dose.",
            "CK",
            unit=CELLS,
        ),
        event_alert(
            "active_infection",
            "Active infection before a dose",
            GATE,
            "Delay the dose until the infection has resolved.",
            "US-PI §2",
        ),
        pml_symptoms_alert("US-PI §5"),
    ]
    if product.route == Route.INTRAVENOUS or product is _OCRELIZUMAB_SC:
        alerts.append(
            event_alert(
                "life_threatening_infusion_reaction",
                "Life-threatening infusion or injection reaction",
                CRITICAL,
                "Stop permanently.",
                "US-PI §2",
            )
        )
    return tuple(alerts)


@dataclass(frozen=True)
class _Interval:
    days: int | None = None
    source: str = ""
    verify: str = ""


def _splits(product: _Product) -> bool:
    """The first dose is given as two infusions two weeks apart."""
    return product in (_OCRELIZUMAB_IV, _UBLITUXIMAB, _RITUXIMAB)


def _min_interval(product: _Product, region: Region) -> _Interval:
    """The shortest gap between two doses (the split first dose excepted), refused if shorter."""
    if product in (_OCRELIZUMAB_IV, _OCRELIZUMAB_SC):
        if region == Region.US:
            return _Interval(
                140,
                "US-PI §2",
                "Minimum interval between doses: 20 weeks (newer US text; older text said 5 "
                "months) — we take 20 weeks (140 days); verify against the current label.",
            )
        return _Interval(
            150,
            "EU-SmPC §4.2",
            "Minimum interval between doses: 5 months — we take 150 days; verify.",
        )
    if product is _UBLITUXIMAB:
        return _Interval(150, "US-PI §2", "'At least 5 months apart' (US-PI §2): we take 150 days.")
    return _Interval()


def _pregnancy(product: _Product, family: str, region: Region) -> PregnancyRule:
    """Anti-CD20s are to be avoided in pregnancy; contraception for months after the last
    dose (§6)."""
    months = {
        ("ocrelizumab", Region.US): 6,
        ("ocrelizumab", Region.EU): 4,
        ("ofatumumab", Region.US): 6,
        ("ofatumumab", Region.EU): 6,
        ("ublituximab", Region.US): 6,
        ("ublituximab", Region.EU): 6,
    }.get((family, region))
    if product.off_label:
        return pregnancy(
            AVOID,
            "CK",
            "Effective contraception during treatment and for 12 months after the last dose",
            verify="Oncology label: 12 months; MS centres often ask for less (verify local "
            "policy): we ask for 12 months.",
        )
    return pregnancy(
        AVOID,
        "US-PI §8.3" if region == Region.US else "EU-SmPC §4.6",
        f"Effective contraception during treatment and for {months} months after the last dose",
        verify="EU wording unconfirmed (verify): we follow the US 6 months."
        if family == "ublituximab" and region == Region.EU
        else "",
    )


_CONTRACEPTION = {
    ("ocrelizumab", Region.US): "Contraception for 6 months after the last dose (US-PI §8.3).",
    ("ocrelizumab", Region.EU): (
        "Contraception for 4 months after the last dose (EU-SmPC §4.6, updated); may be given "
        "while breastfeeding from a few days after birth."
    ),
    ("ofatumumab", Region.US): "Contraception for 6 months after the last dose (US-PI §8.3).",
    ("ofatumumab", Region.EU): "Contraception for 6 months after the last dose (EU-SmPC §4.6).",
    ("ublituximab", Region.US): "Contraception for 6 months after the last dose (US-PI §8.3).",
    (
        "ublituximab",
        Region.EU,
    ): "Contraception for 6 months after the last dose (verify EU wording).",
    ("rituximab", Region.US): "Oncology label: 12 months; MS centres often shorter (verify).",
    ("rituximab", Region.EU): "Oncology label: 12 months; MS centres often shorter (verify).",
}


def _visit_checks(product: _Product) -> tuple[str, ...]:
    checks = [
        "Active-infection check before every dose (US-PI §2)",
        "Breast cancer screening per national guideline",
    ]
    if product is _OCRELIZUMAB_IV:
        checks += [
            "Premedication: methylprednisolone 100 mg IV ~30 min before + antihistamine "
            "30-60 min before; consider antipyretic (US-PI §2)",
            "Observe at least 1 hour after each infusion (US-PI §2/§5)",
        ]
    elif product is _OCRELIZUMAB_SC:
        checks += [
            "Premedication: oral dexamethasone 20 mg + oral antihistamine ~30 min before "
            "(EU-SmPC §4.2)",
            "Observe at least 1 hour after the first injection and 15 minutes after later ones "
            "(EU-SmPC; verify — we follow the EU text)",
        ]
    elif product is _UBLITUXIMAB:
        checks += [
            "Premedication: corticosteroid + antihistamine 30-60 min before (US-PI §2)",
            "Observe at least 1 hour after the first two infusions (US-PI §2)",
        ]
    elif product is _RITUXIMAB:
        checks += [
            "Premedication as for ocrelizumab (methylprednisolone, antihistamine, paracetamol)"
        ]
    else:
        checks += ["First injection under healthcare-professional guidance (US-PI §2)"]
    return tuple(checks)


def _protocol(product: _Product, region: Region) -> Protocol:
    family = product.key.split("_")[0]
    interval = _min_interval(product, region)
    notes: tuple[str, ...] = ()
    if product.off_label:
        notes += (
            "Off-label in MS: regimen per local protocol. Optional CD19 B-cell counts before each "
            "dose (re-dose trigger, e.g. CD19 > 1% of lymphocytes — verify) are not scheduled.",
        )
    return Protocol(
        drug_key=product.key,
        drug_name=product.name,
        brands=product.brands,
        label_region=region,
        version=VERSION,
        effective_from=EFFECTIVE_FROM,
        drug_class=DrugClass.ANTI_CD20,
        route=product.route,
        schedule_text=product.schedule,
        efficacy_category=EfficacyCategory.HIGH,
        atc_current=product.atc,
        atc_former=product.atc_former,
        atc_verified=product.atc_verified,
        sources=(_lbl(product, region), "France4MS-2021", "CK"),
        baseline_checks=_baseline(product, region),
        monitoring_rules=_rules(product, region),
        dose_gates=_gates(product, region),
        alert_rules=_alerts(product, region),
        side_effects=(
            "Infusion or injection reactions (itch, rash, throat irritation, flushing, fever, "
            "headache; up to 24 h after)",
            "Chest and urinary infections",
            "Herpes infections",
            "Low antibody levels",
            "Late low neutrophils",
            "Hepatitis B reactivation",
            "PML (rare)",
            "Weaker vaccine responses",
        ),
        visit_checks=_visit_checks(product),
        switching_notes=(
            "B cells stay depleted for months; start another second-line DMT about 3 months after "
            "the last dose (France4MS-2021; verify)."
        ),
        pregnancy=_pregnancy(product, family, region),
        pregnancy_notes=_CONTRACEPTION[(family, region)],
        notes=notes,
        has_doses=product.interval is not None,
        min_dose_interval_days=interval.days,
        # Day 1 and day 15 of a split first dose are one administration (anchor_merge_days).
        split_first_dose_days=_SPLIT_DOSE_MERGE_DAYS if interval.days and _splits(product) else 0,
        min_dose_interval_source=interval.source,
        min_dose_interval_verify_note=interval.verify,
    )


PROTOCOLS: tuple[Protocol, ...] = tuple(
    _protocol(product, region)
    for product in (_OCRELIZUMAB_IV, _OCRELIZUMAB_SC, _OFATUMUMAB, _UBLITUXIMAB, _RITUXIMAB)
    for region in (Region.US, Region.EU)
)
