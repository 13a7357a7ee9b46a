"""Family planning and pregnancy around DMTs (§6 of the reference, with §5 and §10): the rules as
data, and pure functions that turn an intended conception date, a pregnancy or a delivery into
dated steps. No Django imports.

Every rule carries its source; where the reference says "(verify)" or gives nothing (breast-
feeding for most drugs, when to restart after delivery), the choice is ours, written in
``verify_note`` and shown on the planner with the step it decides.

Typical use::

    rule = family_rule("fingolimod", "EU")
    advice = plan_conception(rule, conceive_on=date(2027, 3, 1), today=today, last_dose_on=None)
    for step in advice.steps: ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .engine import add_period
from .schema import PeriodUnit, PregnancyUse, Region


class BeforeConception(StrEnum):
    """What the current DMT asks before a planned conception (§6)."""

    CONTINUE = "continue"
    """No washout: may be continued, and in pregnancy where clinically needed."""
    STOP_AT_CONCEPTION = "stop_at_conception"
    """Continued until conception, stopped at a positive test (no formal washout)."""
    STOP_BEFORE = "stop_before"
    """A continuous drug stopped ``wait`` before conception (its washout)."""
    GAP_AFTER_LAST_DOSE = "gap_after_last_dose"
    """An infusion or course drug: conception no earlier than ``wait`` after the last dose
    (after each course, for alemtuzumab and cladribine)."""
    ACCELERATED_ELIMINATION = "accelerated_elimination"
    """Teriflunomide: accelerated elimination, then two plasma levels below the target taken at
    least ``confirm_gap_days`` apart."""


class Breastfeeding(StrEnum):
    COMPATIBLE = "compatible"
    AVOID = "avoid"


@dataclass(frozen=True, slots=True)
class FamilyRule:
    drug_key: str
    drug_name: str
    before: BeforeConception
    in_pregnancy: PregnancyUse
    breastfeeding: Breastfeeding
    text: str
    source: str
    wait: int = 0
    wait_unit: PeriodUnit = PeriodUnit.MONTHS
    restart_after_delivery_days: int = 7
    breastfeeding_source: str = ""
    verify_note: str = ""
    for_fathers: bool = False
    """The rule applies to a man planning to father a child too (teriflunomide, cladribine)."""

    @property
    def wait_text(self) -> str:
        unit = self.wait_unit.value.rstrip("s") if self.wait == 1 else self.wait_unit.value
        return f"{self.wait} {unit}"


# --- the constants the rules share --------------------------------------------------------------

TERIFLUNOMIDE_TARGET_MG_L = 0.02
TERIFLUNOMIDE_CONFIRM_GAP_DAYS = 14
TERIFLUNOMIDE_ELIMINATION_DAYS = 11
# When to begin the elimination before the intended conception: 11 days of cholestyramine or
# charcoal, the first level then, the second at least 14 days later, and 2 weeks to spare for a
# level that comes back too high (CK, our choice: 6 weeks).
TERIFLUNOMIDE_LEAD_DAYS = 42
TERIFLUNOMIDE_SOURCE = "US-PI boxed warning; EU-SmPC §4.6"

# Restart after delivery: postpartum relapse risk peaks in the first 3 months, so a DMT that is
# stopped for pregnancy is restarted early (CK, verify: ABN-2024 wording). Our choice: 7 days
# after delivery when the drug may be given (not breast-feeding, or compatible with it).
RESTART_DAYS = 7
RESTART_SOURCE = "CK (verify ABN-2024)"

# A pregnancy lasts about 38 weeks from conception (266 days; 280 from the last period, CK);
# a delivery later than 44 weeks after the recorded conception is refused as a typo.
GESTATION_DAYS = 266
LONGEST_GESTATION_DAYS = 308
YOUNGEST_MOTHER_YEARS = 10
OLDEST_MOTHER_YEARS = 60

# Monitoring during pregnancy (§10, MAGNIMS-2021): gadolinium is avoided in pregnancy, and
# routine MRI waits until after the delivery, when a new baseline scan is taken a few months
# post-partum. (investigation, why, source)
DEFERRED_IN_PREGNANCY: tuple[tuple[str, str, str], ...] = (
    (
        "mri_brain",
        "Deferred: pregnancy. Gadolinium is avoided and routine MRI waits until after the "
        "delivery (new baseline scan a few months post-partum).",
        "MAGNIMS-2021",
    ),
)
POSTPARTUM_MRI_MONTHS = 3
POSTPARTUM_MRI_SOURCE = "MAGNIMS-2021; CK (3 months is our reading of 'a few months')"


def _rule(
    drug_key: str,
    drug_name: str,
    before: BeforeConception,
    in_pregnancy: PregnancyUse,
    breastfeeding: Breastfeeding,
    text: str,
    source: str,
    *,
    wait: int = 0,
    unit: PeriodUnit = PeriodUnit.MONTHS,
    breastfeeding_source: str = "CK (verify: label §4.6 / §8.2)",
    verify: str = "",
    fathers: bool = False,
) -> FamilyRule:
    return FamilyRule(
        drug_key=drug_key,
        drug_name=drug_name,
        before=before,
        in_pregnancy=in_pregnancy,
        breastfeeding=breastfeeding,
        text=text,
        source=source,
        wait=wait,
        wait_unit=unit,
        restart_after_delivery_days=RESTART_DAYS,
        breastfeeding_source=breastfeeding_source,
        verify_note=verify,
        for_fathers=fathers,
    )


B = BeforeConception
ALLOWED, AVOID, CONTRAINDICATED = (
    PregnancyUse.ALLOWED,
    PregnancyUse.AVOID,
    PregnancyUse.CONTRAINDICATED,
)
OK_BF, NO_BF = Breastfeeding.COMPATIBLE, Breastfeeding.AVOID
_BF_VERIFY = (
    "The reference gives no breast-feeding rule for this drug: we treat it as to be avoided "
    "while breast-feeding (CK, verify the label's §4.6 / §8.2)."
)


def _interferon(key: str, name: str) -> FamilyRule:
    return _rule(
        key,
        name,
        B.CONTINUE,
        ALLOWED,
        OK_BF,
        "No washout: may be continued while trying to conceive and in pregnancy if clinically "
        "needed.",
        "EU-SmPC §4.6 (2019 update)",
        breastfeeding_source="EU-SmPC §4.6 (2019 update)",
    )


def _anti_cd20(key: str, name: str, months: int, source: str, region: Region) -> FamilyRule:
    eu_ocrelizumab = key.startswith("ocrelizumab") and region == Region.EU
    return _rule(
        key,
        name,
        B.GAP_AFTER_LAST_DOSE,
        AVOID,
        OK_BF if eu_ocrelizumab else NO_BF,
        f"Conception no earlier than {months} months after the last dose (B-cell depletion in "
        "the newborn is possible).",
        source,
        wait=months,
        breastfeeding_source=(
            "EU-SmPC §4.6 (may be given while breast-feeding, from a few days after birth)"
            if eu_ocrelizumab
            else "CK (verify: label §4.6 / §8.2)"
        ),
        verify="" if eu_ocrelizumab else _BF_VERIFY,
    )


def _rules(region: Region) -> tuple[FamilyRule, ...]:
    us = region == Region.US
    return (
        _interferon("interferon_beta_1a_im", "Interferon beta-1a IM"),
        _interferon("interferon_beta_1a_sc", "Interferon beta-1a SC"),
        _interferon("peginterferon_beta_1a", "Peginterferon beta-1a"),
        _interferon("interferon_beta_1b", "Interferon beta-1b"),
        _rule(
            "glatiramer",
            "Glatiramer acetate",
            B.CONTINUE,
            ALLOWED,
            OK_BF,
            "No washout: may be continued while trying to conceive and in pregnancy if "
            "clinically needed.",
            "EU-SmPC §4.6; CK",
            breastfeeding_source="EU-SmPC §4.6; CK",
            verify="The reference marks the pregnancy wording of the label '(verify)': we "
            "follow the EU label (may continue if clinically needed).",
        ),
        _rule(
            "teriflunomide",
            "Teriflunomide",
            B.ACCELERATED_ELIMINATION,
            CONTRAINDICATED,
            NO_BF,
            "Stop and eliminate: cholestyramine 8 g every 8 h (or activated charcoal 50 g every "
            "12 h) for 11 days, then two plasma levels below 0.02 mg/L at least 14 days apart "
            "before conception (men planning to father a child too, US label).",
            TERIFLUNOMIDE_SOURCE,
            fathers=True,
            verify=_BF_VERIFY + " The elimination begins 6 weeks before the intended "
            "conception (11 days of elimination, two levels 14 days apart, 2 weeks to spare): "
            "our choice (CK).",
        ),
        *(
            _rule(
                key,
                name,
                B.STOP_AT_CONCEPTION,
                AVOID,
                NO_BF,
                "No formal washout: continue with contraception until trying to conceive, and "
                "stop at conception (a positive pregnancy test).",
                "EU-SmPC §4.6; CK",
                verify=_BF_VERIFY,
            )
            for key, name in (
                ("dimethyl_fumarate", "Dimethyl fumarate"),
                ("diroximel_fumarate", "Diroximel fumarate"),
                ("monomethyl_fumarate", "Monomethyl fumarate"),
            )
        ),
        _rule(
            "fingolimod",
            "Fingolimod",
            B.STOP_BEFORE,
            CONTRAINDICATED,
            NO_BF,
            "Stop 2 months before conception; watch for rebound disease activity after stopping.",
            "EU-SmPC §4.6; US-PI §8.3",
            wait=2,
            verify=_BF_VERIFY,
        ),
        _rule(
            "siponimod",
            "Siponimod",
            B.STOP_BEFORE,
            CONTRAINDICATED,
            NO_BF,
            "Stop 10 days before conception.",
            "EU-SmPC §4.6",
            wait=10,
            unit=PeriodUnit.DAYS,
            verify=_BF_VERIFY,
        ),
        _rule(
            "ozanimod",
            "Ozanimod",
            B.STOP_BEFORE,
            AVOID,
            NO_BF,
            "Stop 3 months before conception.",
            "EU-SmPC §4.6; US-PI §8.3",
            wait=3,
            verify=_BF_VERIFY,
        ),
        _rule(
            "ponesimod",
            "Ponesimod",
            B.STOP_BEFORE,
            AVOID,
            NO_BF,
            "Stop 1 week before conception.",
            "US-PI §8.3; EU-SmPC §4.6",
            wait=1,
            unit=PeriodUnit.WEEKS,
            verify=_BF_VERIFY,
        ),
        *(
            _rule(
                key,
                name,
                B.CONTINUE,
                ALLOWED,
                NO_BF,
                "No washout required; may be continued in highly active disease (check the "
                "newborn's blood count if given in the third trimester).",
                "EU-SmPC §4.6",
                verify=_BF_VERIFY + " 'May continue in highly active disease' is a clinical "
                "decision: the planner says continue and names the condition.",
            )
            for key, name in (
                ("natalizumab_iv", "Natalizumab IV"),
                ("natalizumab_sc", "Natalizumab SC"),
            )
        ),
        *(
            _anti_cd20(
                key, name, 6 if us else 4, "US-PI §8.3" if us else "EU-SmPC §4.6 (updated)", region
            )
            for key, name in (
                ("ocrelizumab_iv", "Ocrelizumab IV"),
                ("ocrelizumab_sc", "Ocrelizumab SC"),
            )
        ),
        _anti_cd20("ofatumumab", "Ofatumumab", 6, "US-PI §8.3; EU-SmPC §4.6", region),
        _anti_cd20("ublituximab", "Ublituximab", 6, "US-PI §8.3", region),
        _rule(
            "rituximab",
            "Rituximab",
            B.GAP_AFTER_LAST_DOSE,
            AVOID,
            NO_BF,
            "Off-label in MS: the oncology label asks for 12 months after the last dose.",
            "CK",
            wait=12,
            verify="The reference: 12 months in the oncology label, MS centres often shorter "
            "(verify). We keep the label's 12 months; the neurologist may decide otherwise. "
            + _BF_VERIFY,
        ),
        _rule(
            "alemtuzumab",
            "Alemtuzumab",
            B.GAP_AFTER_LAST_DOSE,
            AVOID,
            NO_BF,
            "Conception no earlier than 4 months after each course (thyroid disease risk in "
            "pregnancy: check thyroid function).",
            "US-PI §8.3; EU-SmPC §4.6",
            wait=4,
            verify=_BF_VERIFY,
        ),
        _rule(
            "cladribine",
            "Cladribine tablets",
            B.GAP_AFTER_LAST_DOSE,
            CONTRAINDICATED,
            NO_BF,
            "Conception no earlier than 6 months after the last dose of each yearly course "
            "(women and men).",
            "US-PI §8.3; EU-SmPC §4.6",
            wait=6,
            fathers=True,
            verify=_BF_VERIFY,
        ),
        _rule(
            "mitoxantrone",
            "Mitoxantrone",
            B.GAP_AFTER_LAST_DOSE,
            CONTRAINDICATED,
            NO_BF,
            "Conception no earlier than 6 months after the last dose; pregnancy test before "
            "each dose.",
            "US-PI §5",
            wait=6,
            verify="The reference gives 'contraception ≥ 6 months after (verify)': we use 6 "
            "months. " + _BF_VERIFY,
        ),
    )


_BY_REGION: dict[Region, dict[str, FamilyRule]] = {
    region: {r.drug_key: r for r in _rules(region)} for region in Region
}


def family_rule(drug_key: str, region: Region | str) -> FamilyRule | None:
    """The catalogue's family-planning rule for a drug, or None where it has none (aHSCT: the
    transplant centre advises)."""
    return _BY_REGION[Region(region)].get(drug_key)


def family_drug_keys() -> frozenset[str]:
    return frozenset(_BY_REGION[Region.EU])


# --- the planner ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    on: date | None
    action: str
    source: str
    done: bool = False


@dataclass(frozen=True, slots=True)
class ConceptionAdvice:
    rule: FamilyRule | None
    steps: tuple[Step, ...]
    earliest_conception_on: date
    """The earliest day conception fits the rule (the intended date if it does)."""
    warnings: tuple[str, ...] = ()

    @property
    def conception_fits(self) -> bool:
        return not self.warnings


def _minus(day: date, amount: int, unit: PeriodUnit) -> date:
    return add_period(day, -amount, unit)


def plan_conception(
    rule: FamilyRule | None,
    *,
    conceive_on: date,
    today: date,
    last_dose_on: date | None = None,
    confirmed_on: date | None = None,
    father: bool = False,
) -> ConceptionAdvice:
    """What to do and when, for the current DMT's ``rule`` and an intended conception date.

    ``last_dose_on``: the last infusion or course start given (for a drug counted from its last
    dose); ``confirmed_on``: the day teriflunomide's elimination was confirmed (two levels),
    if it has been.
    """
    if rule is None:
        return ConceptionAdvice(
            None,
            (
                Step(
                    None,
                    "No DMT rule applies: plan conception with the patient (and after a stem-cell "
                    "transplant, with the transplant centre).",
                    "CK",
                ),
            ),
            conceive_on,
        )
    if father and not rule.for_fathers:
        return ConceptionAdvice(
            rule,
            (
                Step(
                    today,
                    f"Continue {rule.drug_name}: its pregnancy rules concern the mother; the "
                    "catalogue asks nothing of a father on it.",
                    rule.source,
                ),
                Step(conceive_on, "Intended conception.", "—"),
            ),
            conceive_on,
        )
    steps: list[Step] = []
    warnings: list[str] = []
    earliest = conceive_on
    match rule.before:
        case B.CONTINUE:
            steps.append(Step(today, f"Continue {rule.drug_name}. {rule.text}", rule.source))
        case B.STOP_AT_CONCEPTION:
            steps.append(
                Step(
                    conceive_on,
                    f"Continue {rule.drug_name} until conception; stop at a positive pregnancy "
                    "test.",
                    rule.source,
                )
            )
        case B.STOP_BEFORE:
            stop_on = _minus(conceive_on, rule.wait, rule.wait_unit)
            if stop_on < today:
                earliest = add_period(today, rule.wait, rule.wait_unit)
                warnings.append(
                    f"{rule.drug_name} needs stopping {rule.wait_text} before conception: "
                    f"stopped today, the earliest conception is {earliest:%d %b %Y}."
                )
                stop_on = today
            steps.append(
                Step(
                    stop_on,
                    f"Stop {rule.drug_name}. {rule.text}",
                    rule.source,
                )
            )
        case B.GAP_AFTER_LAST_DOSE:
            latest_dose = _minus(conceive_on, rule.wait, rule.wait_unit)
            if last_dose_on is not None and last_dose_on > latest_dose:
                earliest = add_period(last_dose_on, rule.wait, rule.wait_unit)
                warnings.append(
                    f"The last {rule.drug_name} dose was on {last_dose_on:%d %b %Y}: conception "
                    f"{rule.wait_text} later, from {earliest:%d %b %Y}."
                )
            steps.append(
                Step(
                    min(latest_dose, earliest),
                    f"Last {rule.drug_name} dose no later than this date. {rule.text}",
                    rule.source,
                )
            )
        case B.ACCELERATED_ELIMINATION:
            start = conceive_on - timedelta(days=TERIFLUNOMIDE_LEAD_DAYS)
            if confirmed_on is None and start < today:
                start = today
                earliest = today + timedelta(days=TERIFLUNOMIDE_LEAD_DAYS)
                warnings.append(
                    f"Accelerated elimination takes about {TERIFLUNOMIDE_LEAD_DAYS // 7} weeks "
                    f"with its two confirmation levels: the earliest conception is "
                    f"{earliest:%d %b %Y}."
                )
            done = confirmed_on is not None
            first_level = start + timedelta(days=TERIFLUNOMIDE_ELIMINATION_DAYS)
            steps += [
                Step(
                    start,
                    "Stop teriflunomide; start accelerated elimination (cholestyramine 8 g "
                    "every 8 h, or activated charcoal 50 g every 12 h, for 11 days).",
                    TERIFLUNOMIDE_SOURCE,
                    done=done,
                ),
                Step(
                    first_level,
                    f"First plasma teriflunomide level (target < {TERIFLUNOMIDE_TARGET_MG_L} "
                    "mg/L).",
                    TERIFLUNOMIDE_SOURCE,
                    done=done,
                ),
                Step(
                    first_level + timedelta(days=TERIFLUNOMIDE_CONFIRM_GAP_DAYS),
                    f"Second level at least {TERIFLUNOMIDE_CONFIRM_GAP_DAYS} days after the "
                    f"first; both < {TERIFLUNOMIDE_TARGET_MG_L} mg/L confirm the elimination.",
                    TERIFLUNOMIDE_SOURCE,
                    done=done,
                ),
            ]
            if confirmed_on is not None:
                steps.append(
                    Step(
                        confirmed_on,
                        "Elimination confirmed: two levels below the target.",
                        TERIFLUNOMIDE_SOURCE,
                        done=True,
                    )
                )
    steps.append(Step(max(conceive_on, earliest), "Intended conception.", "—"))
    steps.sort(key=lambda s: s.on or today)
    return ConceptionAdvice(rule, tuple(steps), earliest, tuple(warnings))


def elimination_confirmed_on(levels: Sequence[tuple[date, float]]) -> date | None:
    """The day teriflunomide's elimination is confirmed: the second of two plasma levels below
    the target taken at least 14 days apart with no level at or above it in between (a level
    at or above the target starts the count again). None if not (yet) confirmed."""
    first_low: date | None = None
    for taken_on, value in sorted(levels):
        if value >= TERIFLUNOMIDE_TARGET_MG_L:
            first_low = None
            continue
        if first_low is None:
            first_low = taken_on
        elif (taken_on - first_low).days >= TERIFLUNOMIDE_CONFIRM_GAP_DAYS:
            return taken_on
    return None


def restart_after_delivery(
    rule: FamilyRule | None, *, delivered_on: date, breastfeeding: bool
) -> tuple[Step, ...]:
    """When to restart the DMT after delivery, breast-feeding considered, and the post-partum
    MRI."""
    mri = Step(
        add_period(delivered_on, POSTPARTUM_MRI_MONTHS, PeriodUnit.MONTHS),
        "New baseline brain MRI a few months post-partum.",
        POSTPARTUM_MRI_SOURCE,
    )
    if rule is None:
        return (Step(None, "Restart a DMT as the neurologist decides.", "CK"), mri)
    restart_on = delivered_on + timedelta(days=rule.restart_after_delivery_days)
    if not breastfeeding:
        text = (
            f"Restart {rule.drug_name} from {rule.restart_after_delivery_days} days after the "
            "delivery (post-partum relapse risk is highest in the first 3 months)."
        )
        return (Step(restart_on, text, RESTART_SOURCE), mri)
    if rule.breastfeeding == Breastfeeding.COMPATIBLE:
        text = (
            f"Restart {rule.drug_name} from {rule.restart_after_delivery_days} days after the "
            "delivery: compatible with breast-feeding."
        )
        return (Step(restart_on, text, f"{rule.breastfeeding_source}; {RESTART_SOURCE}"), mri)
    text = (
        f"{rule.drug_name} is to be avoided while breast-feeding: restart it when breast-feeding "
        "ends, or choose a DMT compatible with breast-feeding (interferon beta, glatiramer; "
        "ocrelizumab under the EU label) if the relapse risk is high."
    )
    return (Step(None, text, rule.breastfeeding_source), mri)
