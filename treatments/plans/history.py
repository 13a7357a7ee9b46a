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
a history entry has like any other.

The pure checks (`past_therapy_problems`, `overlap_problem`) are shared with the go-live import
(treatments.golive), which applies them to thousands of rows before writing any.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from clinic.permissions import Perm, ensure
from patients.models import Patient
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
from treatments.plans.schedule import sync_care_plan, sync_plan_monitoring
from treatments.plans.services import _plan_conditions, washout_warning
from treatments.protocols import Protocol

if TYPE_CHECKING:
    from clinic.accounts.models import User

EARLIEST_HISTORY = date(1900, 1, 1)
HISTORY_NOTE = "Past therapy (entered as history)"
FIRST_DOSE_NOTE = "First dose (past therapy)"
NATALIZUMAB_PREFIX = "natalizumab"


@dataclass(frozen=True)
class Problem:
    """One refusal: the field (form field or CSV column) and the reason."""

    field: str
    message: str


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


def _d(day: date) -> str:
    return f"{day:%d %b %Y}"


def parse_day(text: str) -> date:
    """A date written as YYYY-MM-DD (the one format a CSV or a list may use: 03/04/2022 means
    a different day in London and in Boston). ValueError with a message saying so."""
    text = text.strip()
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text[:20]}' is not a date: write dates as YYYY-MM-DD.") from None


def parse_days(text: str) -> list[date]:
    """Dates separated by new lines, commas, semicolons or spaces; ValueError naming every
    entry that is not a date."""
    days: list[date] = []
    bad: list[str] = []
    for token in text.replace(",", " ").replace(";", " ").split():
        try:
            days.append(parse_day(token))
        except ValueError:
            bad.append(f"'{token[:20]}'")
    if bad:
        raise ValueError(f"Not a date: {', '.join(bad[:5])}. Write dates as YYYY-MM-DD.")
    return days


def past_therapy_problems(
    *,
    protocol: Protocol,
    drug_name: str,
    date_of_birth: date | None,
    started_on: date,
    stopped_on: date | None,
    stop_reason: str,
    stop_note: str,
    doses: Sequence[date],
    courses: Sequence[date],
    today: date,
    earlier_courses: Sequence[date] = (),
) -> list[Problem]:
    """Everything implausible about one past therapy, in field order. Pure: no queries.
    `earlier_courses` are the courses of the same drug on the patient's other plans (the
    catalogue's course limit counts them all)."""
    problems: list[Problem] = []
    if started_on < EARLIEST_HISTORY:
        problems.append(Problem("started_on", "The first dose cannot be before 1900."))
    elif date_of_birth is not None and started_on < date_of_birth:
        problems.append(
            Problem(
                "started_on",
                f"The first dose cannot be before the patient's birth ({_d(date_of_birth)}).",
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
        ("doses", doses, protocol.has_doses, "separate doses or infusions"),
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
                problems.append(Problem(name, f"{_d(day)} is listed twice."))
            seen.add(day)
            if day < started_on:
                problems.append(
                    Problem(name, f"{_d(day)} is before the first dose ({_d(started_on)}).")
                )
            elif day > end:
                where = f"the stop ({_d(end)})" if stopped_on is not None else "today"
                problems.append(Problem(name, f"{_d(day)} is after {where}."))
    limit = protocol.course_limit
    if limit is not None and protocol.has_courses:
        # The first dose of a course-based drug is its first course (administration_days).
        given = sorted({*earlier_courses, started_on, *courses})
        if len(given) > limit.max_courses:
            problems.append(
                Problem(
                    "courses",
                    f"{limit.text} ({limit.source}): this history makes {len(given)} courses of "
                    f"{drug_name} ({', '.join(_d(day) for day in given)}).",
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
            until = _d(stop) if stop is not None else "now"
            return Problem(
                "started_on",
                f"These dates overlap the {drug_name} plan from {_d(start)} to {until}.",
            )
    return None


def administration_days(
    *, protocol: Protocol, started_on: date, doses: Iterable[date], courses: Iterable[date]
) -> list[tuple[str, date, str]]:
    """(kind, day, note) of the first dose (a course for a course-based drug, as
    start_dmt_plan records it) and of every past dose and course, oldest first. The first dose
    listed again is the same dose."""
    first_kind = AdministrationKind.COURSE if protocol.has_courses else AdministrationKind.DOSE
    given = {(first_kind, started_on)}
    given |= {(AdministrationKind.DOSE, day) for day in doses}
    given |= {(AdministrationKind.COURSE, day) for day in courses}
    return [
        (kind, day, FIRST_DOSE_NOTE if day == started_on else HISTORY_NOTE)
        for kind, day in sorted(given, key=lambda pair: (pair[1], pair[0]))
    ]


def administrations(
    *, plan: DmtPlan, protocol: Protocol, doses: Iterable[date], courses: Iterable[date], by: User
) -> list[DmtAdministration]:
    """The plan's administrations (administration_days), unsaved."""
    assert plan.started_on is not None
    return [
        DmtAdministration(plan=plan, kind=kind, given_on=day, note=note, recorded_by=by)
        for kind, day, note in administration_days(
            protocol=protocol, started_on=plan.started_on, doses=doses, courses=courses
        )
    ]


def record_past_therapy(
    *,
    patient: Patient,
    drug_key: str,
    started_on: date,
    by: User,
    doses: Sequence[date] = (),
    courses: Sequence[date] = (),
    stopped_on: date | None = None,
    stop_reason: str = "",
    stop_note: str = "",
    conditions: Iterable[str] = (),
) -> PastTherapy:
    """Record a DMT the patient was on before Myelin, in one transaction, then materialise its
    monitoring from the real anchors. Raises HistoryError with every problem found."""
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
                earlier_courses=list(
                    DmtAdministration.objects.standing()
                    .filter(
                        plan__patient=patient,
                        plan__drug_key=drug_key,
                        kind=AdministrationKind.COURSE,
                    )
                    .values_list("given_on", flat=True)
                ),
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
                administrations(plan=plan, protocol=protocol, doses=doses, courses=courses, by=by)
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
