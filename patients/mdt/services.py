"""MDT meeting workflows: planning a meeting, putting patients on its list, recording what it
decided, assigning actions and marking them done; and what the meetings add to a patient's
timeline.

Every function checks the capability (`ensure`) and the team, runs in one transaction and writes
its audit entry. A refusal is an :class:`MdtRefused` naming the form field it is about, so the
view shows it next to that field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import CareTeam, User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import MdtAction, MdtCase, MdtMeeting, Patient
from patients.records.timeline import TimelineEvent


class MdtRefused(Exception):
    """A request the MDT rules refuse; `field` is the form field the message belongs to ("" for
    the form as a whole)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


def team_members(team: CareTeam | int) -> list[User]:
    """The clinicians of a care team, by name: who may attend a meeting or hold an action."""
    return list(
        User.objects.filter(
            care_teams=team, is_active=True, role__in=["neurologist", "nurse", "therapist"]
        ).order_by("last_name", "first_name", "username")
    )


def _is_member(user: User, team_id: int) -> bool:
    return user.care_teams.filter(pk=team_id).exists()


def plan_meeting(
    *,
    care_team: CareTeam,
    held_on: date,
    title: str,
    attendees: Sequence[User],
    by: User,
) -> MdtMeeting:
    ensure(by, Perm.MDT_MEETING_PLAN)
    if not _is_member(by, care_team.pk):
        raise MdtRefused("You can plan meetings only for your own care teams.", field="care_team")
    members = {user.pk for user in team_members(care_team)}
    outsiders = [user for user in attendees if user.pk not in members]
    if outsiders:
        names = ", ".join(user.display_name for user in outsiders)
        raise MdtRefused(f"Not a member of {care_team}: {names}.", field="attendees")
    with transaction.atomic():
        meeting = MdtMeeting.objects.create(
            care_team=care_team, held_on=held_on, title=title or "MDT meeting", created_by=by
        )
        meeting.attendees.set(attendees)
        audit.record(
            user=by,
            action=Action.CREATE,
            category=Category.MDT,
            obj=meeting,
            detail=f"MDT meeting planned ({len(attendees)} attendees)",
        )
    return meeting


def add_case(*, meeting: MdtMeeting, patient: Patient, question: str, by: User) -> MdtCase:
    """Put a patient on a meeting's list with the question the team is asked."""
    ensure(by, Perm.MDT_CASE_ADD)
    if not Patient.objects.editable_by(by).filter(pk=patient.pk).exists():
        raise MdtRefused("This patient is not in your care teams.")
    if patient.care_team_id != meeting.care_team_id:
        raise MdtRefused(
            f"This meeting is {meeting.care_team}'s; the patient is cared for by "
            f"{patient.care_team}.",
            field="meeting",
        )
    question = question.strip()
    if not question:
        raise MdtRefused("Say what the team is asked to decide.", field="question")
    with transaction.atomic():
        # The unique constraint is the guard; the check gives the message a person can act on.
        meeting = MdtMeeting.objects.select_for_update().get(pk=meeting.pk)
        if MdtCase.objects.filter(meeting=meeting, patient=patient).exists():
            raise MdtRefused(
                f"This patient is already on the list of the meeting on {meeting.held_on:%d %b %Y}.",
                field="meeting",
            )
        case = MdtCase.objects.create(
            meeting=meeting, patient=patient, question=question, added_by=by
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.MDT,
            obj=case,
            detail="patient added to an MDT meeting",
        )
    return case


def record_outcome(
    *, case: MdtCase, discussion: str, decision: str, by: User, on: date | None = None
) -> MdtCase:
    """The discussion and the decision of the meeting about one patient (recording it again
    replaces it; the history table keeps the earlier text)."""
    ensure(by, Perm.MDT_OUTCOME_RECORD)
    today = on or timezone.localdate()
    decision = decision.strip()
    if not decision:
        raise MdtRefused("Write the decision the meeting made.", field="decision")
    with transaction.atomic():
        case = MdtCase.objects.select_for_update().select_related("meeting").get(pk=case.pk)
        refusal = case.meeting.outcome_refusal(on=today)
        if refusal:
            raise MdtRefused(refusal, field="decision")
        if not _is_member(by, case.meeting.care_team_id):
            raise MdtRefused("Only the meeting's care team records its decisions.")
        action = Action.UPDATE if case.is_decided else Action.CREATE
        case.discussion = discussion.strip()
        case.decision = decision
        case.decided_by = by
        case.decided_at = timezone.now()
        case.save(update_fields=["discussion", "decision", "decided_by", "decided_at"])
        audit.record(
            user=by,
            patient=case.patient_id,
            action=action,
            category=Category.MDT,
            obj=case,
            detail="MDT decision recorded",
        )
    return case


def add_action(
    *, case: MdtCase, description: str, assigned_to: User, due_on: date, by: User
) -> MdtAction:
    ensure(by, Perm.MDT_OUTCOME_RECORD)
    meeting = case.meeting
    if not _is_member(by, meeting.care_team_id):
        raise MdtRefused("Only the meeting's care team assigns its actions.")
    if assigned_to.pk not in {user.pk for user in team_members(meeting.care_team_id)}:
        raise MdtRefused(
            f"{assigned_to.display_name} is not a clinician of {meeting.care_team}.",
            field="assigned_to",
        )
    if due_on < meeting.held_on:
        raise MdtRefused(
            f"An action cannot be due before the meeting that set it ({meeting.held_on:%d %b %Y}).",
            field="due_on",
        )
    description = description.strip()
    if not description:
        raise MdtRefused("Say what is to be done.", field="description")
    with transaction.atomic():
        action = MdtAction.objects.create(
            case=case,
            patient_id=case.patient_id,
            description=description,
            assigned_to=assigned_to,
            due_on=due_on,
            created_by=by,
        )
        audit.record(
            user=by,
            patient=case.patient_id,
            action=Action.CREATE,
            category=Category.MDT,
            obj=action,
            detail="MDT action assigned",
        )
    return action


def complete_action(*, action: MdtAction, by: User, note: str = "") -> MdtAction:
    """Mark an action done. Anyone of the team may (the assignee is away, a colleague did it);
    who did is recorded. Two people pressing "Done" at once: one wins, the other is told."""
    ensure(by, Perm.MDT_ACTION_DONE)
    if not MdtAction.objects.editable_by(by).filter(pk=action.pk).exists():
        raise MdtRefused("This patient is not in your care teams.")
    now = timezone.now()
    with transaction.atomic():
        won = MdtAction.objects.filter(pk=action.pk, done_at__isnull=True).update(
            done_at=now, done_by=by, done_note=note.strip()[:300]
        )
        if not won:
            raise MdtRefused("This action was already marked done.")
        audit.record(
            user=by,
            patient=action.patient_id,
            action=Action.UPDATE,
            category=Category.MDT,
            obj=action,
            detail="MDT action marked done",
        )
    action.refresh_from_db()
    return action


def open_actions_for(user: User) -> list[MdtAction]:
    """The user's own open actions, soonest due first (one query)."""
    return list(
        MdtAction.objects.open()
        .assigned_to(user)
        .visible_to(user)
        .select_related("patient", "case__meeting")
        .order_by("due_on", "id")
    )


def mdt_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    """Each meeting that discussed the patient, with its decision, and each action done (two
    queries whatever the number of meetings)."""
    cases = (
        MdtCase.objects.filter(patient=patient)
        .select_related("meeting")
        .prefetch_related("actions")
    )
    for case in cases:
        meeting = case.meeting
        if case.is_decided:
            title = f"MDT decision: {case.decision[:120]}"
            detail = f"Asked: {case.question[:150]}"
        else:
            title = f"On the MDT list ({meeting.title})"
            detail = f"Question: {case.question[:180]}"
        yield TimelineEvent(
            on=meeting.held_on, kind="mdt", title=title, detail=detail, url=case.get_absolute_url()
        )
        for action in case.actions.all():
            if action.done_at is not None:
                yield TimelineEvent(
                    on=timezone.localtime(action.done_at).date(),
                    kind="mdt",
                    title=f"MDT action done: {action.description[:120]}",
                    detail=action.done_note,
                    url=case.get_absolute_url(),
                )
