"""The label rules that are gates, judged for one proposed start, dose, course or infusion.

These are the rules that no single result decides: they read the plan's history, the patient's
record and the dose being given. Each returns an `UnmetGate` naming its rule, the value found,
what is needed and the source, all from the catalogue (`treatments.protocols.drugs`).
`treatments.plans.gates.unmet_gates` puts them together with the dose gates and the baseline
checklist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from patients.models import PregnancyStatus, Sex
from treatments.dosing import BsaDose
from treatments.models import AdministrationKind, DmtAdministration, DmtPlan, Result, ResultValue
from treatments.protocols import (
    BsaDosing,
    CourseDelayLimit,
    CourseLimit,
    GenotypeDosing,
    PregnancyUse,
    add_months,
    investigation_name,
)


@dataclass(frozen=True)
class UnmetGate:
    key: str
    """Stable within a protocol: names the gate in its override row."""
    rule: str
    found: str
    needed: str
    source: str
    verify_note: str = ""
    investigation: str = ""
    """A check that is missing (not failed): overridden at the start, it stays open to chase."""

    @property
    def message(self) -> str:
        return f"{self.rule} — found: {self.found}; needed: {self.needed}. Source: {self.source}."


def label_gates_unmet(
    *,
    plan: DmtPlan,
    kind: str,
    given_on: date,
    earlier: Sequence[tuple[str, date]],
    dose: BsaDose | None = None,
    contraception_confirmed: bool = False,
    preview: bool = False,
) -> list[UnmetGate]:
    """The label rules the proposed action does not meet. `earlier` holds the plan's
    administrations (kind, date) before `given_on`; `dose` the dose being given (checked by
    `treatments.dosing` already)."""
    protocol = plan.protocol_version.protocol
    unmet: list[UnmetGate | None] = [_pregnancy(plan)]
    if plan.is_planned and not contraception_confirmed:
        unmet.append(_contraception(plan))
    if protocol.bsa_dosing is not None and dose is not None:
        unmet.append(_cumulative_dose(protocol.bsa_dosing, plan, dose))
    if kind == AdministrationKind.DOSE and protocol.min_dose_interval_days is not None:
        unmet.append(_min_interval(plan, earlier, given_on))
    if kind == AdministrationKind.COURSE and (protocol.course_limit or protocol.course_delay):
        courses = _courses_of_drug(plan)
        if protocol.course_limit is not None:
            unmet.append(_course_limit(protocol.course_limit, courses))
        if protocol.course_delay is not None:
            before = [day for day in courses if day < given_on or (preview and day == given_on)]
            unmet.append(_course_delay(protocol.course_delay, plan, before, given_on))
    return [gate for gate in unmet if gate is not None]


# --- pregnancy and contraception -------------------------------------------------------------------

# The key of the record a start leaves when the contraception the label asks for is confirmed
# (a BaselineCheckRecord of the plan: who, when, and the label's words).
CONTRACEPTION_CHECK = "contraception"


def _pregnancy(plan: DmtPlan) -> UnmetGate | None:
    """A drug contraindicated or to be avoided in pregnancy, for a patient recorded as pregnant:
    refused for the start and for every dose or course."""
    rule = plan.protocol_version.protocol.pregnancy
    if rule is None or rule.use == PregnancyUse.ALLOWED:
        return None
    if plan.patient.pregnancy_status != PregnancyStatus.PREGNANT:
        return None
    words = "contraindicated" if rule.use == PregnancyUse.CONTRAINDICATED else "to be avoided"
    return UnmetGate(
        key="pregnancy",
        rule=f"{plan.drug_name} is {words} in pregnancy",
        found="the patient is recorded as pregnant",
        needed="not pregnant (the patient record's pregnancy status)",
        source=rule.source,
        verify_note=rule.verify_note,
    )


def asks_contraception(plan: DmtPlan) -> str:
    """The contraception the label asks of this patient when the drug is started ("" for none):
    women, and men too where the label says so; not a patient recorded as pregnant."""
    rule = plan.protocol_version.protocol.pregnancy
    patient = plan.patient
    if rule is None or not rule.contraception:
        return ""
    if patient.pregnancy_status == PregnancyStatus.PREGNANT:
        return ""
    if patient.sex == Sex.MALE and not rule.contraception_for_men:
        return ""
    return rule.contraception


def _contraception(plan: DmtPlan) -> UnmetGate | None:
    text = asks_contraception(plan)
    rule = plan.protocol_version.protocol.pregnancy
    if not text or rule is None:
        return None
    return UnmetGate(
        key="contraception",
        rule=f"Contraception: {text}",
        found="not confirmed",
        needed="contraception discussed and in place, confirmed when starting",
        source=rule.source,
        verify_note=rule.verify_note,
    )


# --- the shortest interval between doses ---------------------------------------------------------


def _min_interval(
    plan: DmtPlan, earlier: Sequence[tuple[str, date]], given_on: date
) -> UnmetGate | None:
    protocol = plan.protocol_version.protocol
    minimum = protocol.min_dose_interval_days
    doses = sorted(day for _, day in earlier)
    if minimum is None or not doses:
        return None
    last = doses[-1]
    gap = (given_on - last).days
    if gap >= minimum:
        return None
    if len(doses) == 1 and gap <= protocol.split_first_dose_days:
        return None  # the second infusion of a split first dose (day 1 and day 15)
    return UnmetGate(
        key="min_dose_interval",
        rule=f"{plan.drug_name}: doses at least {minimum} days apart",
        found=f"{gap} days since the dose of {last:%d %b %Y}",
        needed=f"at least {minimum} days (not before {last + timedelta(days=minimum):%d %b %Y})",
        source=protocol.min_dose_interval_source,
        verify_note=protocol.min_dose_interval_verify_note,
    )


# --- courses ------------------------------------------------------------------------------------


def _courses_of_drug(plan: DmtPlan) -> list[date]:
    """Every course of this drug the patient has had, on any of their plans (a new plan does
    not start the count again)."""
    return sorted(
        DmtAdministration.objects.standing()
        .filter(
            plan__patient_id=plan.patient_id,
            plan__drug_key=plan.drug_key,
            kind=AdministrationKind.COURSE,
        )
        .values_list("given_on", flat=True)
    )


def _course_limit(limit: CourseLimit, courses: list[date]) -> UnmetGate | None:
    if len(courses) < limit.max_courses:
        return None
    given = ", ".join(f"{day:%d %b %Y}" for day in courses)
    return UnmetGate(
        key="course_limit",
        rule=limit.text,
        found=f"{len(courses)} courses already given ({given})",
        needed=f"at most {limit.max_courses} courses in all",
        source=limit.source,
        verify_note=limit.verify_note,
    )


def _course_delay(
    delay: CourseDelayLimit, plan: DmtPlan, courses_before: list[date], given_on: date
) -> UnmetGate | None:
    """Course `delay.course` given later than its planned date plus the allowed delay, when
    the count had not recovered within that delay: no further course."""
    if len(courses_before) != delay.course - 1:
        return None
    planned = add_months(courses_before[-1], delay.interval_months)
    last_day = add_months(planned, delay.max_delay_months)
    if given_on <= last_day:
        return None
    counts_from = planned - timedelta(days=delay.window_days_before)
    recovered = ResultValue.objects.filter(
        result__patient_id=plan.patient_id,
        result__correction="",
        analyte=delay.analyte,
        result__taken_on__gte=counts_from,
        result__taken_on__lte=last_day,
        value__gte=Decimal(str(delay.threshold)),
    ).exists()
    if recovered:
        return None  # recovered in time; a later course was delayed for another reason
    name = investigation_name(delay.analyte)
    return UnmetGate(
        key="course_delay",
        rule=delay.text,
        found=(
            f"course {delay.course} planned for {planned:%d %b %Y}; no {name.lower()} count "
            f"≥ {delay.threshold:g} between {counts_from:%d %b %Y} and {last_day:%d %b %Y}"
        ),
        needed=f"recovery by {last_day:%d %b %Y} ({delay.max_delay_months} months after the "
        "planned date)",
        source=delay.source,
        verify_note=delay.verify_note,
    )


# --- lifetime cumulative dose -------------------------------------------------------------------


@dataclass(frozen=True)
class CumulativeDose:
    given_mg_m2: Decimal
    doses: int
    without_dose: int
    """Earlier doses recorded without mg/m²: the total is then unknown."""
    cap_mg_m2: Decimal

    @property
    def remaining_mg_m2(self) -> Decimal:
        return max(self.cap_mg_m2 - self.given_mg_m2, Decimal(0))


def cumulative_dose(plan: DmtPlan) -> CumulativeDose | None:
    """What the patient has had of this drug in mg/m², over all their plans of it."""
    dosing = plan.protocol_version.protocol.bsa_dosing
    if dosing is None:
        return None
    doses = list(
        DmtAdministration.objects.standing()
        .filter(plan__patient_id=plan.patient_id, plan__drug_key=plan.drug_key)
        .values_list("dose_mg_m2", flat=True)
    )
    return CumulativeDose(
        given_mg_m2=sum((d for d in doses if d is not None), Decimal(0)),
        doses=len(doses),
        without_dose=sum(1 for d in doses if d is None),
        cap_mg_m2=Decimal(str(dosing.max_cumulative_mg_m2)),
    )


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}"


def _cumulative_dose(dosing: BsaDosing, plan: DmtPlan, dose: BsaDose) -> UnmetGate | None:
    so_far = cumulative_dose(plan)
    assert so_far is not None
    cap = so_far.cap_mg_m2
    needed = f"a lifetime total of at most {_plain(cap)} mg/m²"
    if so_far.without_dose:
        return UnmetGate(
            key="cumulative_dose",
            rule=dosing.text,
            found=f"{so_far.without_dose} earlier dose(s) recorded without mg/m²: the lifetime "
            "total is unknown",
            needed=needed,
            source=dosing.source,
            verify_note=dosing.verify_note,
        )
    total = so_far.given_mg_m2 + dose.mg_m2
    if total <= cap:
        return None
    return UnmetGate(
        key="cumulative_dose",
        rule=dosing.text,
        found=f"{_plain(so_far.given_mg_m2)} mg/m² already given + {_plain(dose.mg_m2)} mg/m² "
        f"now = {_plain(total)} mg/m²",
        needed=needed,
        source=dosing.source,
        verify_note=dosing.verify_note,
    )


# --- dose by genotype ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GenotypeDose:
    """The patient's latest genotype and what the catalogue says it means for the dose (the
    start itself is refused for a contraindicated genotype by the protocol's dose gate)."""

    result: Result | None
    dosing: GenotypeDosing | None


def genotype_dose(plan: DmtPlan) -> GenotypeDose | None:
    protocol = plan.protocol_version.protocol
    if not protocol.genotype_dosing:
        return None
    result = (
        Result.objects.standing()
        .filter(patient_id=plan.patient_id, investigation=protocol.genotype_investigation)
        .exclude(genotype="")
        .order_by("-taken_on", "-id")
        .first()
    )
    if result is None:
        return GenotypeDose(None, None)
    dosing = next(d for d in protocol.genotype_dosing if result.genotype in d.genotypes)
    return GenotypeDose(result, dosing)
