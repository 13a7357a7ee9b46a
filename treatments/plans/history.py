"""Therapy history: a DMT that began before the clinic used Myelin, entered afterwards with its
real dates — the start, the past doses, courses or infusions, and a stop with its reason.

A history entry is a record of the past, not an action taken now. It therefore bypasses the
present-day gates on purpose: no baseline checklist, no dose gates, no "the first dose cannot
be before the day the plan is made". What it must be is plausible, and every refusal names the
field and the reason: dates not before 1900, not before the patient's birth, not in the future;
doses within the plan's span; only the kinds of administration the catalogue gives the drug;
no overlap with another plan of the patient.

Monitoring is then materialised from the real anchors (treatments.plans.schedule); items that
fell due before the clinic's go-live date are stored as "before go-live" and never alert, so
the first live items are the ones the true history puts after go-live. PML exposure, course
counts, cumulative doses and washouts read the administrations by their `given_on` dates, which
a history entry has like any other. For a drug the catalogue doses by body-surface area
(mitoxantrone, §3.17) every past dose carries its dose in mg/m² and the BSA, as a dose given
today does, so the lifetime cumulative-dose gate counts the real total instead of refusing the
next dose as "total unknown"; a history that already passes the lifetime limit is refused, as
one with more cladribine courses than the catalogue allows is.

The pure checks (`past_therapy_problems`, `overlap_problem`) are shared with the go-live import
(treatments.golive), which applies them to thousands of rows before writing any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from clinic.permissions import Perm, ensure
from patients.models import Patient
from treatments import dosing
from treatments.catalogue.services import protocol_version_for
from treatments.errors import TreatmentError
from treatments.models import (
    GENERAL_DRUG_KEY,
    AdministrationKind,
    ClinicSettings,
    DmtAdministration,
    DmtPlan,
    PlanStatus,
    StopReason,
)
from treatments.plans.past_doses import (
    PastDose,
    Problem,
    as_past_dose,
    checked_past_doses,
    past_dose_amounts,
    plain_mg,
    show_day,
)
from treatments.plans.schedule import sync_care_plan, sync_plan_monitoring
from treatments.plans.services import _plan_conditions, washout_warning
from treatments.protocols import Protocol

if TYPE_CHECKING:
    from clinic.accounts.models import User

EARLIEST_HISTORY = date(1900, 1, 1)
HISTORY_NOTE = "Past therapy (entered as history)"
FIRST_DOSE_NOTE = "First dose (past therapy)"
NATALIZUMAB_PREFIX = "natalizumab"


class HistoryError(TreatmentError):
    """Every problem of a history entry at once, so each can be shown next to its field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field)
        self.problems = list(problems)


@dataclass
class PastTherapy:
    plan: DmtPlan
    warnings: list[str] = field(default_factory=list)


def past_therapy_problems(
    *,
    protocol: Protocol,
    drug_name: str,
    date_of_birth: date | None,
    started_on: date,
    stopped_on: date | None,
    stop_reason: str,
    stop_note: str,
    doses: Sequence[date | PastDose],
    courses: Sequence[date],
    today: date,
    earlier_courses: Sequence[date] = (),
    first_dose: dosing.DoseEntry | None = None,
    earlier_mg_m2: Decimal = Decimal(0),
) -> list[Problem]:
    """Everything implausible about one past therapy, in field order. Pure: no queries.
    `earlier_courses` are the courses of the same drug on the patient's other plans (the
    catalogue's course limit counts them all), `earlier_mg_m2` the mg/m² of its doses there
    (and the lifetime cumulative dose); `first_dose` the first dose's mg/m² and BSA."""
    past = [as_past_dose(d) for d in doses]
    problems: list[Problem] = []
    if started_on < EARLIEST_HISTORY:
        problems.append(Problem("started_on", "The first dose cannot be before 1900."))
    elif date_of_birth is not None and started_on < date_of_birth:
        problems.append(
            Problem(
                "started_on",
                f"The first dose cannot be before the patient's birth ({show_day(date_of_birth)}).",
            )
        )
    if started_on > today:
        problems.append(
            Problem("started_on", "The first dose cannot be in the future: plan the drug instead.")
        )
    if stopped_on is not None:
        if stopped_on > today:
            problems.append(Problem("stopped_on", "The stop date cannot be in the future."))
        if stopped_on < started_on:
            problems.append(Problem("stopped_on", "The stop date cannot be before the first dose."))
        if stop_reason not in StopReason.values:
            problems.append(Problem("stop_reason", "Choose why the drug was stopped."))
        elif stop_reason == StopReason.OTHER and not stop_note.strip():
            problems.append(Problem("stop_note", "Describe the reason for stopping."))
    elif stop_reason or stop_note.strip():
        problems.append(
            Problem("stopped_on", "Give the stop date, or leave the reason empty if still on it.")
        )
    end = stopped_on if stopped_on is not None else today
    for name, dates, allowed, kind in (
        ("doses", [d.day for d in past], protocol.has_doses, "separate doses or infusions"),
        ("courses", courses, protocol.has_courses, "treatment courses"),
    ):
        if dates and not allowed:
            problems.append(
                Problem(
                    name,
                    f"{drug_name} is not given as {kind} in the catalogue: record only its "
                    "start and stop.",
                )
            )
            continue
        seen: set[date] = set()
        for day in dates:
            if day in seen and day != started_on:
                problems.append(Problem(name, f"{show_day(day)} is listed twice."))
            seen.add(day)
            if day < started_on:
                problems.append(
                    Problem(
                        name, f"{show_day(day)} is before the first dose ({show_day(started_on)})."
                    )
                )
            elif day > end:
                where = f"the stop ({show_day(end)})" if stopped_on is not None else "today"
                problems.append(Problem(name, f"{show_day(day)} is after {where}."))
    limit = protocol.course_limit
    if limit is not None and protocol.has_courses:
        # The first dose of a course-based drug is its first course (administration_days).
        given = sorted({*earlier_courses, started_on, *courses})
        if len(given) > limit.max_courses:
            problems.append(
                Problem(
                    "courses",
                    f"{limit.text} ({limit.source}): this history makes {len(given)} courses of "
                    f"{drug_name} ({', '.join(show_day(day) for day in given)}).",
                )
            )
    amounts, dose_problems = checked_past_doses(
        dosing_rule=protocol.bsa_dosing,
        drug_name=drug_name,
        started_on=started_on,
        first_dose=first_dose,
        doses=past,
    )
    problems += dose_problems
    rule = protocol.bsa_dosing
    if rule is not None and amounts:
        # The label's lifetime limit counts every dose of the drug, the other plans' too.
        total = earlier_mg_m2 + sum((a.mg_m2 for a in amounts.values()), Decimal(0))
        if total > Decimal(str(rule.max_cumulative_mg_m2)):
            elsewhere = (
                f", {plain_mg(earlier_mg_m2)} mg/m² of it on the patient's other {drug_name} plans"
                if earlier_mg_m2
                else ""
            )
            problems.append(
                Problem(
                    "doses" if len(amounts) > 1 else "dose_mg_m2",
                    f"{rule.text} ({rule.source}): this history makes {plain_mg(total)} mg/m² of "
                    f"{drug_name} in all{elsewhere}.",
                )
            )
    return problems


def overlap_problem(
    *, started_on: date, stopped_on: date | None, others: Iterable[tuple[str, date, date | None]]
) -> Problem | None:
    """A plan's span [first dose, stop) may not share a day with another plan's (one drug at a
    time); a switch on the day of the stop is not an overlap. `others` are (drug name, start,
    stop or None while running)."""
    for drug_name, start, stop in others:
        ends_after_start = stop is None or started_on < stop
        starts_before_end = stopped_on is None or start < stopped_on
        if ends_after_start and starts_before_end:
            until = show_day(stop) if stop is not None else "now"
            return Problem(
                "started_on",
                f"These dates overlap the {drug_name} plan from {show_day(start)} to {until}.",
            )
    return None


@dataclass(frozen=True)
class PastAdministration:
    kind: str
    given_on: date
    note: str
    dose: dosing.BsaDose | None = None


def administration_days(
    *,
    protocol: Protocol,
    started_on: date,
    doses: Iterable[date | PastDose],
    courses: Iterable[date],
    amounts: Mapping[date, dosing.BsaDose] | None = None,
) -> list[PastAdministration]:
    """The first dose (a course for a course-based drug, as start_dmt_plan records it) and
    every past dose and course, oldest first, each dose with its mg/m² and BSA from `amounts`
    (past_dose_amounts) for a drug dosed by body-surface area. The first dose listed again is
    the same dose."""
    first_kind = AdministrationKind.COURSE if protocol.has_courses else AdministrationKind.DOSE
    given = {(first_kind, started_on)}
    given |= {(AdministrationKind.DOSE, as_past_dose(dose).day) for dose in doses}
    given |= {(AdministrationKind.COURSE, day) for day in courses}
    amounts = amounts or {}
    return [
        PastAdministration(
            kind,
            day,
            FIRST_DOSE_NOTE if day == started_on else HISTORY_NOTE,
            amounts.get(day) if kind == AdministrationKind.DOSE else None,
        )
        for kind, day in sorted(given, key=lambda pair: (pair[1], pair[0]))
    ]


def administrations(
    *,
    plan: DmtPlan,
    protocol: Protocol,
    doses: Sequence[date | PastDose],
    courses: Iterable[date],
    first_dose: dosing.DoseEntry | None,
    by: User,
) -> list[DmtAdministration]:
    """The plan's administrations (administration_days), unsaved."""
    assert plan.started_on is not None
    amounts = past_dose_amounts(
        protocol=protocol, started_on=plan.started_on, first_dose=first_dose, doses=doses
    )
    return [
        DmtAdministration(
            plan=plan,
            kind=given.kind,
            given_on=given.given_on,
            note=given.note,
            recorded_by=by,
            dose_mg_m2=given.dose.mg_m2 if given.dose else None,
            bsa_m2=given.dose.bsa_m2 if given.dose else None,
            height_cm=given.dose.height_cm if given.dose else None,
            weight_kg=given.dose.weight_kg if given.dose else None,
        )
        for given in administration_days(
            protocol=protocol,
            started_on=plan.started_on,
            doses=doses,
            courses=courses,
            amounts=amounts,
        )
    ]


def record_past_therapy(
    *,
    patient: Patient,
    drug_key: str,
    started_on: date,
    by: User,
    doses: Sequence[date | PastDose] = (),
    courses: Sequence[date] = (),
    first_dose: dosing.DoseEntry | None = None,
    stopped_on: date | None = None,
    stop_reason: str = "",
    stop_note: str = "",
    conditions: Iterable[str] = (),
) -> PastTherapy:
    """Record a DMT the patient was on before Myelin, in one transaction, then materialise its
    monitoring from the real anchors. For a drug dosed by body-surface area, `first_dose` and
    each of `doses` carry the dose in mg/m² with the BSA. Raises HistoryError with every
    problem found."""
    ensure(by, Perm.HISTORY_RECORD)
    if drug_key == GENERAL_DRUG_KEY or not drug_key:
        raise HistoryError([Problem("drug_key", "Choose a drug.")])
    today = timezone.localdate()
    region = ClinicSettings.load().label_region
    try:
        with transaction.atomic():
            # One history entry per patient at a time: the overlap check reads the plans.
            Patient.objects.select_for_update().get(pk=patient.pk)
            version = protocol_version_for(drug_key=drug_key, region=region, on=started_on)
            protocol = version.protocol
            if not protocol.authorised_in_region:
                raise HistoryError(
                    [
                        Problem(
                            "drug_key",
                            f"{version.drug_name} is not authorised in the {region} label region.",
                        )
                    ]
                )
            # The patient's other administrations of the drug: the lifetime limits count them.
            earlier = list(
                DmtAdministration.objects.standing()
                .filter(plan__patient=patient, plan__drug_key=drug_key)
                .values_list("kind", "given_on", "dose_mg_m2")
            )
            problems = past_therapy_problems(
                protocol=protocol,
                drug_name=version.drug_name,
                date_of_birth=patient.date_of_birth,
                started_on=started_on,
                stopped_on=stopped_on,
                stop_reason=stop_reason,
                stop_note=stop_note,
                doses=doses,
                courses=courses,
                today=today,
                earlier_courses=[
                    day for kind, day, _ in earlier if kind == AdministrationKind.COURSE
                ],
                first_dose=first_dose,
                # A dose recorded without mg/m² is not known here; the gate before the next
                # real dose reports the total as unknown.
                earlier_mg_m2=sum((mg for _, _, mg in earlier if mg is not None), Decimal(0)),
            )
            others = list(DmtPlan.objects.filter(patient=patient, started_on__isnull=False))
            overlap = overlap_problem(
                started_on=started_on,
                stopped_on=stopped_on,
                others=[
                    (p.drug_name, p.started_on, p.stopped_on)
                    for p in others
                    if p.started_on is not None
                ],
            )
            if overlap is not None:
                problems.append(overlap)
            if problems:
                raise HistoryError(problems)
            plan = _create(
                patient=patient,
                version_id=version.pk,
                drug_key=drug_key,
                drug_name=version.drug_name,
                started_on=started_on,
                stopped_on=stopped_on,
                stop_reason=stop_reason,
                stop_note=stop_note,
                conditions=conditions,
                others=others,
                by=by,
            )
            # The past doses are written directly, not through record_administration: a
            # historic dose is a record of the past, not an action now, so the present-day
            # dose gates (baseline checklist, results before the next dose, course limits) do
            # not stop it. What it counts towards (exposure, courses, cumulative dose) it counts
            # by its real given_on date.
            given = DmtAdministration.objects.bulk_create(
                administrations(
                    plan=plan,
                    protocol=protocol,
                    doses=doses,
                    courses=courses,
                    first_dose=first_dose,
                    by=by,
                )
            )
            audit.record(
                user=by,
                patient=patient,
                action=Action.CREATE,
                category=Category.TREATMENT,
                obj=plan,
                detail=(
                    f"past therapy recorded: {drug_key} from {started_on:%Y-%m-%d}"
                    + (f" to {stopped_on:%Y-%m-%d}" if stopped_on else "")
                    + f", {len(given)} doses or courses"
                ),
            )
            sync_plan_monitoring(plan=plan, on=today)
            sync_care_plan(patient=patient, on=today)
            if drug_key.startswith(NATALIZUMAB_PREFIX) or any(
                p.drug_key.startswith(NATALIZUMAB_PREFIX) for p in others
            ):
                enqueue_on_commit(
                    "treatments.reassess_pml_for_patient", patient.pk, "Therapy history recorded"
                )
    except IntegrityError as error:
        if "one_current_dmt_plan" in str(error):
            raise HistoryError(
                [
                    Problem(
                        "stopped_on",
                        "This patient already has an active or suspended DMT: give this one "
                        "its stop date.",
                    )
                ]
            ) from None
        raise
    warning = washout_warning(plan=plan, starts_on=started_on) if plan.switched_from else ""
    return PastTherapy(plan, [warning] if warning else [])


def _create(
    *,
    patient: Patient,
    version_id: int,
    drug_key: str,
    drug_name: str,
    started_on: date,
    stopped_on: date | None,
    stop_reason: str,
    stop_note: str,
    conditions: Iterable[str],
    others: list[DmtPlan],
    by: User,
) -> DmtPlan:
    """The plan itself, linked into the patient's sequence of drugs: the plan stopped last before
    this one began is what it was switched from (its washout counts from the real dates), and
    the next plan, if one was entered first, is switched from this one."""
    taken = {p.switched_from_id for p in others if p.switched_from_id is not None}
    before = [
        p
        for p in others
        if p.stopped_on is not None and p.stopped_on <= started_on and p.pk not in taken
    ]
    previous = max(before, key=lambda p: (p.stopped_on, p.pk), default=None)
    plan = DmtPlan.objects.create(
        patient=patient,
        protocol_version_id=version_id,
        drug_key=drug_key,
        drug_name=drug_name,
        status=PlanStatus.STOPPED if stopped_on is not None else PlanStatus.ACTIVE,
        conditions=_plan_conditions(patient, conditions),
        # Planned on the day of the first dose: when it was decided is not known, and the
        # database requires the plan before its first dose.
        planned_on=started_on,
        started_on=started_on,
        stopped_on=stopped_on,
        stop_reason=stop_reason if stopped_on is not None else "",
        stop_note=stop_note.strip() if stopped_on is not None else "",
        recorded_as_history=True,
        switched_from=previous,
        created_by=by,
    )
    if stopped_on is not None:
        after = [
            p
            for p in others
            if p.started_on is not None
            and p.started_on >= stopped_on
            and p.switched_from_id is None
        ]
        following = min(after, key=lambda p: (p.started_on, p.pk), default=None)
        if following is not None:
            following.switched_from = plan
            following.save(update_fields=["switched_from", "updated_at"])
    return plan
