"""The infusion day: a checklist per infusion of an intravenous DMT, and recording the infusion.

The checklist comes from the catalogue (`treatments.protocols.infusion_day`): the drug's
questions before the infusion, its pre-medication, the vital signs before and after, the
observation period and the infusion reaction's grade; the dose gates are the plan's own
(`treatments.plans.gates`). The infusion is recorded through the plan's service
(`record_administration`, which checks the gates again and keeps their overrides) only when
nothing is missing, unless a neurologist overrides with a written reason: the reason and what
was missing are kept on the visit and audited.

Every function is keyword-only, runs in one transaction and writes its audit entry (category
"infusion"). Bad input is refused with `TreatmentError`, naming the form field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from treatments import dosing
from treatments.alerts import services as alerts
from treatments.errors import TreatmentError
from treatments.models import (
    MIN_OVERRIDE_REASON_LENGTH,
    AdministrationKind,
    AlertGrade,
    AlertKind,
    DmtAdministration,
    DmtPlan,
    InfusionState,
    InfusionVisit,
)
from treatments.plans import gates as plan_gates
from treatments.plans import services as plan_services
from treatments.protocols.infusion_day import (
    REACTION_ALERT_GRADE,
    REACTION_ALERT_SOURCE,
    REACTION_GRADES,
    VITAL_SIGNS,
    InfusionDay,
    infusion_day_for,
)

if TYPE_CHECKING:
    from clinic.accounts.models import User

VISIT_TYPE = "treatments.infusionvisit"
ANSWERS = ("yes", "no")
PREMEDICATION_ANSWERS = ("given", "not_given")
MAX_COURSE_DAYS = 5


def infusion_day_of(plan: DmtPlan) -> InfusionDay | None:
    return infusion_day_for(plan.protocol_version.protocol.drug_key)


def infusion_kind(plan: DmtPlan, course_day: int | None) -> str:
    """Day 1 of a course starts the course; every other infusion is a dose."""
    if plan.protocol_version.protocol.has_courses and course_day == 1:
        return AdministrationKind.COURSE
    return AdministrationKind.DOSE


def infusion_number(visit: InfusionVisit) -> int:
    """Which infusion of the plan this is (the observation of the first N infusions)."""
    given = visit.plan.administrations.filter(given_on__lt=visit.infusion_on).count()
    return given + 1


# --- opening a visit ----------------------------------------------------------------------------


def open_visit(
    *, plan: DmtPlan, infusion_on: date, course_day: int | None = None, by: User
) -> InfusionVisit:
    ensure(by, Perm.INFUSION_CHECKLIST)
    if not plan.is_current:
        raise TreatmentError("Infusions are given on an active plan.", field="infusion_on")
    if infusion_day_of(plan) is None:
        raise TreatmentError(f"{plan.drug_name} is not given as an infusion.")
    if infusion_on < timezone.localdate():
        raise TreatmentError(
            "An infusion day checklist is for today or a coming day; record a past infusion on "
            "the plan.",
            field="infusion_on",
        )
    if plan.started_on and infusion_on < plan.started_on:
        raise TreatmentError("The infusion cannot be before the first dose.", field="infusion_on")
    courses = plan.protocol_version.protocol.has_courses
    if courses and course_day is None:
        raise TreatmentError("Give the day of the course (1 starts a course).", field="course_day")
    if course_day is not None and not (courses and 1 <= course_day <= MAX_COURSE_DAYS):
        raise TreatmentError(
            f"{plan.drug_name} has no course days." if not courses else "A course day is 1 to 5.",
            field="course_day",
        )
    try:
        with transaction.atomic():
            visit = InfusionVisit.objects.create(
                patient_id=plan.patient_id,
                plan=plan,
                infusion_on=infusion_on,
                course_day=course_day,
                created_by=by,
            )
            audit.record(
                user=by,
                patient=plan.patient_id,
                action=Action.CREATE,
                category=Category.INFUSION,
                obj=visit,
                detail="infusion day checklist opened",
            )
    except IntegrityError:
        raise TreatmentError(
            "This plan already has an infusion on that day.", field="infusion_on"
        ) from None
    return visit


# --- the checklist ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistEntry:
    """What is written on the checklist; a missing key or None is an item not filled in."""

    answers: dict[str, str] = field(default_factory=dict)
    premedication: dict[str, str] = field(default_factory=dict)
    vitals_before: dict[str, Decimal | None] = field(default_factory=dict)
    vitals_after: dict[str, Decimal | None] = field(default_factory=dict)
    observed_minutes: int | None = None
    reaction_grade: int | None = None
    reaction_note: str = ""

    @classmethod
    def of(cls, visit: InfusionVisit) -> ChecklistEntry:
        def numbers(stored: dict[str, Any]) -> dict[str, Decimal | None]:
            return {k: (Decimal(v) if v is not None else None) for k, v in stored.items()}

        return cls(
            answers=dict(visit.answers),
            premedication=dict(visit.premedication),
            vitals_before=numbers(visit.vitals_before),
            vitals_after=numbers(visit.vitals_after),
            observed_minutes=visit.observed_minutes,
            reaction_grade=visit.reaction_grade,
            reaction_note=visit.reaction_note,
        )


@dataclass(frozen=True)
class Gap:
    """One item that keeps the infusion from being recorded: the form field it belongs to and
    what is wrong, in words."""

    field: str
    text: str


def checklist_gaps(
    *, day: InfusionDay, entry: ChecklistEntry, course_day: int | None, infusion_number: int
) -> list[Gap]:
    """Every item of the checklist that is blank or stops the infusion, in the order of the
    page. (The dose gates are added by `missing_items`.)"""
    gaps: list[Gap] = []
    for question in day.questions:
        answer = entry.answers.get(question.key)
        if answer not in ANSWERS:
            gaps.append(Gap(f"q_{question.key}", f"Not answered: {question.text}"))
        elif answer == "yes":
            gaps.append(
                Gap(f"q_{question.key}", f"Answered yes: {question.text} {question.if_yes}")
            )
    for medicine in day.premedications:
        given = entry.premedication.get(medicine.key)
        if given not in PREMEDICATION_ANSWERS:
            gaps.append(Gap(f"pm_{medicine.key}", f"Not answered: pre-medication {medicine.text}"))
        elif given == "not_given" and medicine.required_on(course_day):
            gaps.append(
                Gap(f"pm_{medicine.key}", f"Not given: {medicine.text} ({medicine.source})")
            )
    for when, values in (("before", entry.vitals_before), ("after", entry.vitals_after)):
        for sign in VITAL_SIGNS:
            if values.get(sign.key) is None:
                gaps.append(Gap(f"{when}_{sign.key}", f"Not recorded: {sign.label.lower()} {when}"))
    needed = day.observation.minutes_for(infusion_number)
    if entry.observed_minutes is None:
        gaps.append(Gap("observed_minutes", "Not recorded: the observation after the infusion"))
    elif entry.observed_minutes < needed:
        gaps.append(
            Gap(
                "observed_minutes",
                f"Observed {entry.observed_minutes} min; at least {needed} min are needed "
                f"({day.observation.text}; {day.observation.source}).",
            )
        )
    if entry.reaction_grade is None:
        gaps.append(Gap("reaction_grade", "Not answered: infusion reaction (none or its grade)"))
    return gaps


def _check_entry(day: InfusionDay, entry: ChecklistEntry) -> None:
    """Refuse values a form could not have sent (a tampered or stale form), at their field."""
    for question in day.questions:
        if entry.answers.get(question.key) not in (None, "", *ANSWERS):
            raise TreatmentError("Answer yes or no.", field=f"q_{question.key}")
    for medicine in day.premedications:
        if entry.premedication.get(medicine.key) not in (None, "", *PREMEDICATION_ANSWERS):
            raise TreatmentError("Answer given or not given.", field=f"pm_{medicine.key}")
    for when, values in (("before", entry.vitals_before), ("after", entry.vitals_after)):
        for sign in VITAL_SIGNS:
            value = values.get(sign.key)
            if value is not None and not sign.low <= value <= sign.high:
                raise TreatmentError(
                    f"{sign.label} {when}: between {sign.low:g} and {sign.high:g} {sign.unit}, "
                    "please.",
                    field=f"{when}_{sign.key}",
                )
    grades = {grade.grade for grade in REACTION_GRADES}
    if entry.reaction_grade is not None and entry.reaction_grade not in grades:
        raise TreatmentError("Choose a grade from the list.", field="reaction_grade")
    if entry.reaction_grade and not entry.reaction_note.strip():
        raise TreatmentError("Describe the reaction and what was done.", field="reaction_note")


def save_checklist(*, visit: InfusionVisit, entry: ChecklistEntry, by: User) -> InfusionVisit:
    """Keep what is filled in so far (blank items are allowed until the infusion is recorded)."""
    ensure(by, Perm.INFUSION_CHECKLIST)
    if not visit.is_open:
        raise TreatmentError("This infusion is already recorded.")
    day = infusion_day_of(visit.plan)
    if day is None:
        raise TreatmentError(f"{visit.plan.drug_name} is not given as an infusion.")
    _check_entry(day, entry)

    def stored(values: dict[str, Decimal | None]) -> dict[str, str | None]:
        return {k: (str(v) if v is not None else None) for k, v in values.items()}

    with transaction.atomic():
        visit.answers = {k: v for k, v in entry.answers.items() if v}
        visit.premedication = {k: v for k, v in entry.premedication.items() if v}
        visit.vitals_before = stored(entry.vitals_before)
        visit.vitals_after = stored(entry.vitals_after)
        visit.observed_minutes = entry.observed_minutes
        visit.reaction_grade = entry.reaction_grade
        visit.reaction_note = entry.reaction_note.strip()
        visit.save()
        audit.record(
            user=by,
            patient=visit.patient_id,
            action=Action.UPDATE,
            category=Category.INFUSION,
            obj=visit,
            detail="infusion day checklist saved",
        )
    return visit


def missing_items(visit: InfusionVisit) -> list[Gap]:
    """What keeps this visit's infusion from being recorded: the checklist's gaps, then each
    unmet dose gate of the catalogue on the infusion day."""
    day = infusion_day_of(visit.plan)
    if day is None:
        return [Gap("__all__", f"{visit.plan.drug_name} is not given as an infusion.")]
    gaps = checklist_gaps(
        day=day,
        entry=ChecklistEntry.of(visit),
        course_day=visit.course_day,
        infusion_number=infusion_number(visit),
    )
    unmet = plan_gates.unmet_gates(
        plan=visit.plan,
        kind=infusion_kind(visit.plan, visit.course_day),
        given_on=visit.infusion_on,
    )
    return gaps + [Gap("gates", gate.message) for gate in unmet]


# --- recording the infusion ---------------------------------------------------------------------


class ChecklistIncomplete(TreatmentError):
    def __init__(self, gaps: list[Gap], *, can_override: bool) -> None:
        count = f"{len(gaps)} item{'s' if len(gaps) != 1 else ''}"
        how = (
            "To record it anyway, write your reason for overriding the checklist."
            if can_override
            else "Only a neurologist can override the checklist, with a written reason."
        )
        super().__init__(
            f"Not recorded: the checklist has {count} missing or stopping the infusion. {how}",
            field="override_reason",
            details=[gap.text for gap in gaps],
        )
        self.gaps = gaps


def record_infusion(
    *,
    visit: InfusionVisit,
    by: User,
    override_reason: str = "",
    dose: dosing.DoseEntry | None = None,
) -> DmtAdministration:
    ensure(by, Perm.DOSE_RECORD)
    reason = override_reason.strip()
    with transaction.atomic():
        visit = (
            InfusionVisit.objects.select_for_update(of=("self",))
            .select_related("plan__protocol_version", "plan__patient")
            .get(pk=visit.pk)
        )
        if not visit.is_open:
            raise TreatmentError("This infusion is already recorded.")
        gaps = missing_items(visit)
        if gaps:
            allowed = plan_gates.may_override(by)
            if not allowed or not reason:
                raise ChecklistIncomplete(gaps, can_override=allowed)
            if len(reason) < MIN_OVERRIDE_REASON_LENGTH:
                raise TreatmentError(
                    f"Give a reason of at least {MIN_OVERRIDE_REASON_LENGTH} characters for "
                    "overriding the checklist: it is read later by colleagues and auditors.",
                    field="override_reason",
                )
        given = plan_services.record_administration(
            plan=visit.plan,
            kind=infusion_kind(visit.plan, visit.course_day),
            given_on=visit.infusion_on,
            note="Infusion day checklist",
            override_reason=reason,
            dose=dose,
            by=by,
        )
        visit.state = InfusionState.RECORDED
        visit.administration = given
        visit.recorded_by = by
        visit.recorded_at = timezone.now()
        visit.override_reason = reason if gaps else ""
        visit.override_missing = [gap.text for gap in gaps]
        visit.save()
        audit.record(
            user=by,
            patient=visit.patient_id,
            action=Action.CREATE,
            category=Category.INFUSION,
            obj=visit,
            detail="infusion recorded" + (" with checklist override" if gaps else ""),
        )
        if visit.reaction_grade is not None and visit.reaction_grade >= REACTION_ALERT_GRADE:
            alerts.raise_alerts(
                [
                    alerts.AlertSpec(
                        patient_id=visit.patient_id,
                        kind=AlertKind.SIDE_EFFECT,
                        grade=AlertGrade.CRITICAL,
                        condition_key=f"infusion_reaction:visit:{visit.pk}",
                        title=f"{visit.plan.drug_name}: infusion reaction grade "
                        f"{visit.reaction_grade}",
                        detail=visit.reaction_note,
                        action="Review before the next infusion: a life-threatening reaction "
                        "stops the drug permanently.",
                        source=REACTION_ALERT_SOURCE,
                        raised_by_type=VISIT_TYPE,
                        raised_by_id=str(visit.pk),
                        ctcae_grade=visit.reaction_grade,
                    )
                ]
            )
    return given
