"""Supportive care plan workflows: setting a goal, reviewing it, and what the plan adds to the
patient page (a panel and timeline entries, each a fixed number of queries).

A refusal is a :class:`SupportiveRefused` naming the form field it is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient
from patients.records.timeline import Panel, TimelineEvent
from treatments.models import (
    GoalStatus,
    OutcomeMeasurement,
    Result,
    SupportiveArea,
    SupportiveGoal,
    SupportiveReview,
)
from treatments.protocols.investigations import INVESTIGATIONS
from treatments.supportive import rules

# The outcome measures (therapists' sessions and patient questionnaires, treatments.pro) that
# speak to a supportive area: shown beside its goal as the latest value.
MEASURES_FOR_AREA = {
    SupportiveArea.MOOD: "phq9",
    SupportiveArea.FATIGUE: "mfis",
    SupportiveArea.COGNITION: "sdmt",
}


class SupportiveRefused(Exception):
    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Readings:
    """Area-specific values given with a goal or a review (all optional)."""

    vitamin_d_value: Decimal | None = None
    vitamin_d_unit: str = "nmol/L"
    vitamin_d_measured_on: date | None = None
    supplementation: str | None = None
    screening_tool: str = ""
    screening_score: int | None = None
    screened_on: date | None = None


def _check_owner(patient: Patient, owner: User) -> None:
    if not (
        owner.is_clinician
        and owner.is_active
        and owner.care_teams.filter(pk=patient.care_team_id).exists()
    ):
        raise SupportiveRefused(
            f"{owner.display_name} is not a clinician of {patient.care_team}.", field="owner"
        )


def _check_scope(patient: Patient, by: User) -> None:
    if not Patient.objects.editable_by(by).filter(pk=patient.pk).exists():
        raise SupportiveRefused("This patient is not in your care teams.")


def _apply_readings(goal: SupportiveGoal, readings: Readings, *, today: date) -> None:
    """Check and copy the readings that belong to the goal's area; refuse the others."""
    if readings.vitamin_d_value is not None:
        if goal.area != SupportiveArea.VITAMIN_D:
            raise SupportiveRefused("A vitamin D level belongs to a vitamin D goal.")
        try:
            goal.vitamin_d_level = rules.vitamin_d_in_nmol(
                readings.vitamin_d_value, readings.vitamin_d_unit
            )
        except rules.RuleError as error:
            raise SupportiveRefused(str(error), field="vitamin_d_value") from None
        if readings.vitamin_d_measured_on is None:
            raise SupportiveRefused(
                "Give the day the level was measured.", field="vitamin_d_measured_on"
            )
        goal.vitamin_d_measured_on = readings.vitamin_d_measured_on
    elif readings.vitamin_d_measured_on is not None:
        raise SupportiveRefused("Give the level measured that day.", field="vitamin_d_value")
    if readings.vitamin_d_measured_on and readings.vitamin_d_measured_on > today:
        raise SupportiveRefused(
            "A level cannot be measured in the future.", field="vitamin_d_measured_on"
        )
    if readings.supplementation is not None and goal.area == SupportiveArea.VITAMIN_D:
        goal.supplementation = readings.supplementation.strip()
    if readings.screening_tool or readings.screening_score is not None:
        if goal.area != SupportiveArea.MOOD:
            raise SupportiveRefused("A screening score belongs to a mood goal.")
        if readings.screening_score is None:
            raise SupportiveRefused("Give the score.", field="screening_score")
        try:
            rules.check_screening_score(readings.screening_tool, readings.screening_score)
        except rules.RuleError as error:
            field = "screening_score" if readings.screening_tool else "screening_tool"
            raise SupportiveRefused(str(error), field=field) from None
        if readings.screened_on is None:
            raise SupportiveRefused("Give the day of the screening.", field="screened_on")
        if readings.screened_on > today:
            raise SupportiveRefused(
                "A screening cannot be done in the future.", field="screened_on"
            )
        goal.screening_tool = readings.screening_tool
        goal.screening_score = readings.screening_score
        goal.screened_on = readings.screened_on


def set_goal(
    *,
    patient: Patient,
    area: str,
    goal: str,
    owner: User,
    started_on: date,
    review_on: date,
    note: str = "",
    readings: Readings | None = None,
    by: User,
    today: date | None = None,
) -> SupportiveGoal:
    ensure(by, Perm.SUPPORTIVE_CARE_EDIT)
    _check_scope(patient, by)
    _check_owner(patient, owner)
    today = today or timezone.localdate()
    if started_on > today:
        raise SupportiveRefused("A goal is set today or on a past day.", field="started_on")
    if review_on <= started_on:
        raise SupportiveRefused(
            "The review date comes after the day the goal is set.", field="review_on"
        )
    if review_on < today:
        raise SupportiveRefused(
            "This review date has already passed: choose today or later.", field="review_on"
        )
    row = SupportiveGoal(
        patient=patient,
        area=area,
        goal=goal.strip(),
        owner=owner,
        started_on=started_on,
        review_on=review_on,
        note=note.strip(),
        created_by=by,
    )
    _apply_readings(row, readings or Readings(), today=today)
    try:
        with transaction.atomic():
            row.save()
            audit.record(
                user=by,
                patient=patient,
                action=Action.CREATE,
                category=Category.SUPPORTIVE,
                obj=row,
                detail=f"supportive care goal set ({area})",
            )
    except IntegrityError:
        # The partial unique constraint: one goal in progress per area.
        raise SupportiveRefused(
            f"A {SupportiveArea(area).label.lower()} goal is already in progress: review it "
            "instead.",
            field="area",
        ) from None
    return row


def review_goal(
    *,
    goal: SupportiveGoal,
    reviewed_on: date,
    status: str,
    note: str,
    next_review_on: date | None,
    readings: Readings | None = None,
    by: User,
    today: date | None = None,
) -> SupportiveReview:
    """Record a review: the goal takes the review's status, and either its next review date
    (still in progress) or its closing day (achieved or stopped)."""
    ensure(by, Perm.SUPPORTIVE_CARE_EDIT)
    today = today or timezone.localdate()
    with transaction.atomic():
        goal = SupportiveGoal.objects.select_for_update().select_related("patient").get(pk=goal.pk)
        _check_scope(goal.patient, by)
        if not goal.is_active:
            raise SupportiveRefused("This goal is closed: set a new one instead.")
        if reviewed_on > today:
            raise SupportiveRefused("A review is done today or on a past day.", field="reviewed_on")
        if reviewed_on < goal.started_on:
            raise SupportiveRefused(
                f"The goal was set on {goal.started_on:%d %b %Y}: a review cannot be before.",
                field="reviewed_on",
            )
        if status == GoalStatus.ACTIVE:
            if next_review_on is None:
                raise SupportiveRefused(
                    "A goal still in progress needs its next review date.",
                    field="next_review_on",
                )
            if next_review_on <= reviewed_on:
                raise SupportiveRefused(
                    "The next review comes after this one.", field="next_review_on"
                )
        else:
            next_review_on = None
        _apply_readings(goal, readings or Readings(), today=today)
        review = SupportiveReview.objects.create(
            goal=goal,
            patient_id=goal.patient_id,
            reviewed_on=reviewed_on,
            status=status,
            note=note.strip(),
            next_review_on=next_review_on,
            reviewed_by=by,
        )
        goal.status = status
        if next_review_on is not None:
            goal.review_on = next_review_on
        goal.closed_on = None if status == GoalStatus.ACTIVE else reviewed_on
        goal.save()
        audit.record(
            user=by,
            patient=goal.patient_id,
            action=Action.UPDATE,
            category=Category.SUPPORTIVE,
            obj=goal,
            detail=f"supportive care goal reviewed ({status})",
        )
    return review


def latest_measures(patient: Patient) -> dict[str, OutcomeMeasurement]:
    """The latest PHQ-9, MFIS and SDMT of the patient, by measure (one query)."""
    rows = (
        OutcomeMeasurement.objects.filter(
            patient=patient, measure__in=list(MEASURES_FOR_AREA.values())
        )
        .order_by("measure", "-measured_on", "-id")
        .distinct("measure")
    )
    return {row.measure: row for row in rows}


def latest_vitamin_d_result(patient: Patient) -> Result | None:
    """The latest vitamin D result, if the lab catalogue has the test (one query then; none
    otherwise)."""
    key = rules.vitamin_d_investigation(dict(INVESTIGATIONS))
    if key is None:
        return None
    return (
        Result.objects.filter(patient=patient, investigation=key)
        .prefetch_related("values")
        .order_by("-taken_on", "-id")
        .first()
    )


@dataclass(frozen=True)
class GoalRow:
    goal: SupportiveGoal
    overdue_days: int
    band: str
    measure: OutcomeMeasurement | None


def plan_rows(patient: Patient, *, today: date) -> tuple[list[GoalRow], list[SupportiveGoal]]:
    """The goals in progress (with what speaks to each) and the closed ones (three queries)."""
    goals = list(
        SupportiveGoal.objects.filter(patient=patient)
        .select_related("owner")
        .order_by("status", "review_on", "id")
    )
    measures = latest_measures(patient)
    active = [
        GoalRow(
            goal=goal,
            overdue_days=goal.days_overdue(on=today),
            band=rules.screening_band(goal.screening_tool, goal.screening_score),
            measure=measures.get(MEASURES_FOR_AREA.get(goal.area, "")),  # type: ignore[call-overload]
        )
        for goal in goals
        if goal.is_active
    ]
    closed = [goal for goal in goals if not goal.is_active]
    return active, closed


def supportive_panel(request: HttpRequest, patient: Patient) -> Panel:
    today = timezone.localdate()
    active, closed = plan_rows(patient, today=today)
    covered = {row.goal.area for row in active}
    return Panel(
        template="treatments/supportive_panel.html#supportive-panel",
        context={
            "patient": patient,
            "rows": active,
            "closed_count": len(closed),
            "overdue_count": sum(1 for row in active if row.overdue_days),
            "uncovered": [a for a in SupportiveArea if a.value not in covered],
            "vitamin_d_result": latest_vitamin_d_result(patient),
            "smoking_status": patient.get_smoking_status_display(),
        },
    )


def supportive_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    """Goals set and reviews (two queries whatever the number)."""
    url = reverse("supportive:patient", kwargs={"external_id": patient.external_id})
    goals = list(SupportiveGoal.objects.filter(patient=patient))
    for goal in goals:
        yield TimelineEvent(
            on=goal.started_on,
            kind="supportive",
            title=f"Supportive care goal: {goal.get_area_display()}",
            detail=goal.goal[:200],
            url=url,
        )
    areas = {goal.pk: goal.get_area_display() for goal in goals}
    for review in SupportiveReview.objects.filter(patient=patient):
        status = GoalStatus(review.status).label.lower()
        yield TimelineEvent(
            on=review.reviewed_on,
            kind="supportive",
            title=f"Supportive care review: {areas.get(review.goal_id, '')} ({status})",
            detail=review.note[:200],
            url=url,
        )


def overdue_reviews_for(user: User, *, today: date, mine_only: bool) -> list[SupportiveGoal]:
    """Goals in progress whose review date has passed, of the user's care teams (one query)."""
    goals: Any = SupportiveGoal.objects.editable_by(user).review_overdue(on=today)
    if mine_only:
        goals = goals.filter(owner=user)
    return list(goals.select_related("patient", "owner").order_by("review_on", "id"))
