"""Referral workflows: sending one, moving it through its states, and its patient-page sources.

Every transition locks the referral row, re-checks the state machine (:meth:`Referral.refusal`)
against the locked row, writes the new state, a :class:`ReferralEvent` and an audit entry, all in
one transaction: two therapists pressing "Accept" at once leave one event, and the second is
told the referral was already accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import (
    TRANSITIONS,
    Patient,
    Referral,
    ReferralEvent,
    ReferralState,
    ReferralTarget,
)
from patients.models.referrals import FALLBACK_WORKING_DAYS, add_working_days
from patients.records.timeline import (
    Panel,
    TimelineEvent,
    correction_line,
)


class ReferralRefused(Exception):
    """A transition the state machine or the user's role does not allow; the message says why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class DuplicateReferral(Exception):
    """The patient already has an open referral to this discipline."""

    def __init__(self, existing: list[Referral]) -> None:
        self.existing = existing
        super().__init__("An open referral to this discipline already exists.")


def target_working_days(*, discipline: str, urgency: str) -> int:
    days = (
        ReferralTarget.objects.filter(discipline=discipline, urgency=urgency)
        .values_list("working_days", flat=True)
        .first()
    )
    return days if days is not None else FALLBACK_WORKING_DAYS[urgency]  # type: ignore[index]


def open_referrals_to(*, patient: Patient, discipline: str) -> list[Referral]:
    return list(
        Referral.objects.open()
        .filter(patient=patient, discipline=discipline)
        .select_related("referred_by")
        .order_by("sent_at")
    )


def _check_scope(*, patient: Patient, user: User) -> None:
    # editable_by: emergency access to a patient is read-only, so it sends no referral.
    if not Patient.objects.editable_by(user).filter(pk=patient.pk).exists():
        raise ReferralRefused("This patient is not in your care teams.")


def send_referral(
    *,
    patient: Patient,
    discipline: str,
    urgency: str,
    reason: str,
    by: User,
    allow_duplicate: bool = False,
) -> Referral:
    """Send a referral and start its clock. A second open referral to the same discipline is
    refused with :class:`DuplicateReferral` unless the sender explicitly asks for one."""
    ensure(by, Perm.REFERRAL_SEND)
    _check_scope(patient=patient, user=by)
    with transaction.atomic():
        # Serialise senders for this patient so two people cannot both miss each other's referral.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        existing = open_referrals_to(patient=patient, discipline=discipline)
        if existing and not allow_duplicate:
            raise DuplicateReferral(existing)
        now = timezone.now()
        days = target_working_days(discipline=discipline, urgency=urgency)
        referral = Referral.objects.create(
            patient=patient,
            discipline=discipline,
            urgency=urgency,
            reason=reason.strip(),
            referred_by=by,
            state=ReferralState.SENT,
            sent_at=now,
            target_working_days=days,
            due_at=add_working_days(now, days),
        )
        ReferralEvent.objects.create(
            referral=referral,
            by=by,
            at=now,
            action="send",
            from_state="",
            to_state=ReferralState.SENT,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.REFERRAL,
            obj=referral,
            detail="referral sent",
        )
    return referral


def transition_referral(
    *,
    referral: Referral,
    action: str,
    by: User,
    note: str = "",
    reason: str = "",
    scheduled_on: date | None = None,
    summary: str = "",
) -> Referral:
    """Take one step of the state machine (see :data:`TRANSITIONS`)."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)
        _check_scope(patient=locked.patient, user=by)
        refusal = locked.refusal(action, by)
        if refusal:
            raise ReferralRefused(refusal)
        step = TRANSITIONS[action]
        if step.needs == "reason" and not reason.strip():
            raise ReferralRefused("Give a reason.")
        if step.needs == "scheduled_on" and scheduled_on is None:
            raise ReferralRefused("Give the appointment date.")
        if step.needs == "summary" and not summary.strip():
            raise ReferralRefused("Write a summary for the referrer.")
        now = timezone.now()
        previous = locked.state
        locked.state = step.target
        fields = ["state", "updated_at"]
        if action in ("accept", "decline"):
            locked.responded_at = now
            fields.append("responded_at")
        if action == "decline":
            locked.decline_reason = reason.strip()
            fields.append("decline_reason")
        elif action == "cancel":
            locked.cancel_reason = reason.strip()
            fields.append("cancel_reason")
        elif action == "schedule":
            locked.scheduled_on = scheduled_on
            fields.append("scheduled_on")
        elif action == "complete":
            locked.summary = summary.strip()
            locked.completed_at = now
            fields += ["summary", "completed_at"]
        elif action == "acknowledge":
            locked.acknowledged_at = now
            fields.append("acknowledged_at")
        locked.save(update_fields=fields)
        event_note = note.strip() or reason.strip() or summary.strip()
        if action == "schedule" and scheduled_on:
            event_note = f"Appointment on {scheduled_on:%d %b %Y}. {note.strip()}".strip()
        ReferralEvent.objects.create(
            referral=locked,
            by=by,
            at=now,
            action=action,
            from_state=previous,
            to_state=step.target,
            note=event_note,
        )
        audit.record(
            user=by,
            patient=locked.patient,
            action=Action.UPDATE,
            category=Category.REFERRAL,
            obj=locked,
            detail=f"referral {step.done}",
        )
    return locked


def triage_referral(*, referral: Referral, by: User, note: str = "") -> Referral:
    return transition_referral(referral=referral, action="triage", by=by, note=note)


def accept_referral(*, referral: Referral, by: User, note: str = "") -> Referral:
    return transition_referral(referral=referral, action="accept", by=by, note=note)


def decline_referral(*, referral: Referral, by: User, reason: str) -> Referral:
    return transition_referral(referral=referral, action="decline", by=by, reason=reason)


def schedule_referral(
    *, referral: Referral, by: User, scheduled_on: date, note: str = ""
) -> Referral:
    return transition_referral(
        referral=referral, action="schedule", by=by, scheduled_on=scheduled_on, note=note
    )


def start_referral(*, referral: Referral, by: User, note: str = "") -> Referral:
    return transition_referral(referral=referral, action="start", by=by, note=note)


def complete_referral(*, referral: Referral, by: User, summary: str) -> Referral:
    return transition_referral(referral=referral, action="complete", by=by, summary=summary)


def acknowledge_referral(*, referral: Referral, by: User, note: str = "") -> Referral:
    return transition_referral(referral=referral, action="acknowledge", by=by, note=note)


def cancel_referral(*, referral: Referral, by: User, reason: str) -> Referral:
    return transition_referral(referral=referral, action="cancel", by=by, reason=reason)


# -- what referrals contribute to the patient page ---------------------------------------------


def referral_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    events = ReferralEvent.objects.filter(referral__patient=patient).select_related(
        "referral", "corrected_by"
    )
    for event in events:
        referral = event.referral
        verb = "sent" if event.action == "send" else TRANSITIONS[event.action].done
        yield TimelineEvent(
            on=timezone.localtime(event.at).date(),
            kind="referral",
            title=f"Referral to {referral.get_discipline_display()} {verb}",
            detail=event.note[:200],
            url=referral.get_absolute_url(),
            correction=correction_line(event),
        )


def referral_panel(request: HttpRequest, patient: Patient) -> Panel:
    referrals = list(
        Referral.objects.filter(patient=patient)
        .exclude(
            state__in=[ReferralState.ACKNOWLEDGED, ReferralState.CANCELLED, ReferralState.DECLINED]
        )
        .select_related("referred_by")
        .order_by("due_at")
    )
    return Panel(
        template="patients/referral_panel.html#referral-panel",
        context={"patient": patient, "referrals": referrals, "now": timezone.now()},
    )


def update_targets(*, targets: Iterable[ReferralTarget], by: User) -> int:
    """Save edited response targets (clinic admins). Running clocks keep their own copy."""
    ensure(by, Perm.REFERRAL_TARGETS)
    changed = 0
    with transaction.atomic():
        for target in targets:
            target.save(update_fields=["working_days"])
            changed += 1
        audit.record(
            user=by,
            action=Action.UPDATE,
            category=Category.REFERRAL,
            detail=f"referral response targets changed ({changed})",
        )
    return changed
