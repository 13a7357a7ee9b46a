"""Referrals from one discipline to another: a state machine with a response-time clock.

The state machine is explicit: :data:`TRANSITIONS` says, for each action, which states it may
start from, which state it ends in, which side of the referral may take it and what it needs
(a reason, a date, a summary). :meth:`Referral.refusal` is the single rule every service call,
view and button consults.

Who is on which side
--------------------
* The **receiving side** triages, accepts, declines, schedules, starts and completes. For the
  therapy disciplines that Myelin has users for (physiotherapy, occupational therapy, speech and
  language therapy, psychology) it is a therapist of that discipline; for the MS nurse service it
  is a nurse. The other disciplines (ophthalmology, continence, social work, ...) are services
  outside the MS team without Myelin logins: the team's neurologists and nurses record their
  responses on their behalf.
* The **referring side** cancels and acknowledges the summary: the referrer, or any neurologist
  or nurse (who share the patient's care team; scope is checked by the service).

Which roles may take each side is the permission table's (clinic.permissions: REFERRAL_RESPOND_*,
REFERRAL_CLOSE_*); this module adds only what depends on the referral: its discipline and who
sent it.

The clock
---------
A referral must be *responded to* (accepted or declined) within the target for its discipline
and urgency, counted in working days (Monday to Friday; bank holidays are not known to Myelin)
from the moment it is sent. The target in force when it is sent is copied onto the referral, so
editing :class:`ReferralTarget` never moves an existing clock. A referral is **breached** when it
is still waiting for a response (sent or triaged) after ``due_at``; one answered late keeps
``responded_at > due_at`` as a record of the breach.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pghistory
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clinic import limits
from clinic.permissions import Perm, may
from patients.models.corrections import Correctable, CorrectableQuerySet, correction_constraints
from patients.models.scoping import PatientOwnedQuerySet

if TYPE_CHECKING:
    from clinic.accounts.models import User


class ReferralDiscipline(models.TextChoices):
    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    OCCUPATIONAL_THERAPY = "occupational_therapy", "Occupational therapy"
    SPEECH_AND_LANGUAGE = "speech_language", "Speech and language therapy"
    PSYCHOLOGY = "psychology", "Psychology / neuropsychology"
    CONTINENCE = "continence", "Continence / urology"
    OPHTHALMOLOGY = "ophthalmology", "Ophthalmology"
    SOCIAL_WORK = "social_work", "Social work"
    DIETETICS = "dietetics", "Dietetics"
    PAIN = "pain", "Pain clinic"
    NEURO_REHAB = "neuro_rehab", "Neuro-rehabilitation"
    MS_NURSE = "ms_nurse", "MS nurse"
    # Outside the team: the team's neurologists and nurses record its responses (§3.19, aHSCT).
    TRANSPLANT_CENTRE = "transplant_centre", "Stem-cell transplant centre (aHSCT)"


# Disciplines whose referrals a therapist of the same discipline (accounts.Discipline) receives.
THERAPY_DISCIPLINES = frozenset(
    {
        ReferralDiscipline.PHYSIOTHERAPY,
        ReferralDiscipline.OCCUPATIONAL_THERAPY,
        ReferralDiscipline.SPEECH_AND_LANGUAGE,
        ReferralDiscipline.PSYCHOLOGY,
    }
)


# Services whose referrals Myelin's own users receive: the therapy disciplines and the MS nurses.
SERVICES_WITH_USERS = THERAPY_DISCIPLINES | {ReferralDiscipline.MS_NURSE}


def service_of(user: User) -> str:
    """The service a user works referrals for: a therapist's discipline, the MS nurse service
    for a nurse, none for anyone else."""
    if user.is_therapist:
        return user.discipline
    if user.is_nurse:
        return ReferralDiscipline.MS_NURSE
    return ""


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SOON = "soon", "Soon"
    URGENT = "urgent", "Urgent"


class ReferralState(models.TextChoices):
    SENT = "sent", "Sent"
    TRIAGED = "triaged", "Triaged"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CANCELLED = "cancelled", "Cancelled"


S = ReferralState
AWAITING_RESPONSE = frozenset({S.SENT, S.TRIAGED})
OPEN_STATES = frozenset({S.SENT, S.TRIAGED, S.ACCEPTED, S.SCHEDULED, S.IN_PROGRESS})


class Side(models.TextChoices):
    RECEIVER = "receiver", "the receiving discipline"
    REFERRER = "referrer", "the referrer or the patient's neurologists and nurses"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the button
    done: str  # past tense, for messages: "accepted"
    sources: frozenset[str]
    target: str
    side: str
    needs: str = ""  # "" | "reason" | "scheduled_on" | "summary"


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "triage", "Mark triaged", "triaged", frozenset({S.SENT}), S.TRIAGED, Side.RECEIVER
        ),
        Transition("accept", "Accept", "accepted", AWAITING_RESPONSE, S.ACCEPTED, Side.RECEIVER),
        Transition(
            "decline", "Decline", "declined", AWAITING_RESPONSE, S.DECLINED, Side.RECEIVER, "reason"
        ),
        # Scheduling again from "scheduled" is a reschedule.
        Transition(
            "schedule",
            "Schedule",
            "scheduled",
            frozenset({S.ACCEPTED, S.SCHEDULED}),
            S.SCHEDULED,
            Side.RECEIVER,
            "scheduled_on",
        ),
        Transition(
            "start",
            "Start",
            "started",
            frozenset({S.ACCEPTED, S.SCHEDULED}),
            S.IN_PROGRESS,
            Side.RECEIVER,
        ),
        Transition(
            "complete",
            "Complete",
            "completed",
            frozenset({S.IN_PROGRESS}),
            S.COMPLETED,
            Side.RECEIVER,
            "summary",
        ),
        Transition(
            "acknowledge",
            "Acknowledge summary",
            "acknowledged",
            frozenset({S.COMPLETED}),
            S.ACKNOWLEDGED,
            Side.REFERRER,
        ),
        Transition(
            "cancel",
            "Cancel referral",
            "cancelled",
            OPEN_STATES,
            S.CANCELLED,
            Side.REFERRER,
            "reason",
        ),
    )
}


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Mon-Fri) at the same clinic clock time.

    Counted in the clinic's time zone, so a clock started on Friday afternoon with two working
    days falls due on Tuesday afternoon, across a daylight-saving change included.
    """
    local = timezone.localtime(start)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    naive = datetime.combine(day, local.time().replace(tzinfo=None))
    return timezone.make_aware(naive, timezone.get_current_timezone())


@pghistory.track()
class ReferralTarget(models.Model):
    """How many working days the receiving discipline has to respond, per urgency.

    Seeded with defaults by migration 0003 (urgent 2, soon 5, routine 10 working days; the MS
    nurse service 1/3/5; ophthalmology urgent 1, for acute visual loss). Clinic admins edit these
    in the Django admin; new referrals use the value in force when they are sent.
    """

    discipline = models.CharField(max_length=30, choices=ReferralDiscipline.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    working_days = models.PositiveSmallIntegerField(
        help_text="Working days (Mon-Fri) from sending to an accept or decline."
    )

    class Meta:
        ordering = ["discipline", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["discipline", "urgency"], name="referral_target_once"),
            models.CheckConstraint(
                name="referral_target_days_range",
                condition=Q(working_days__gte=1, working_days__lte=120),
                violation_error_message="A response target is 1 to 120 working days.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_discipline_display()} {self.get_urgency_display()}: {self.working_days} working days"


# Used when a clinic deleted the row for a discipline and urgency.
FALLBACK_WORKING_DAYS = {Urgency.URGENT: 2, Urgency.SOON: 5, Urgency.ROUTINE: 10}


class ReferralQuerySet(PatientOwnedQuerySet["Referral"]):
    def open(self) -> ReferralQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def awaiting_response(self) -> ReferralQuerySet:
        return self.filter(state__in=AWAITING_RESPONSE)

    def breached(self, *, at: datetime) -> ReferralQuerySet:
        """Referrals still waiting for an accept or decline after their deadline.

        Served by the partial index ``referral_awaiting_due`` (the alerts sweep calls this)."""
        return self.awaiting_response().filter(due_at__lt=at)

    def to_receiver(self, user: User) -> ReferralQuerySet:
        """The referrals ``user`` works as the receiving side (their board's inbox)."""
        service = service_of(user)
        if not service or not may(user, Perm.REFERRAL_RESPOND_OWN):
            return self.none()
        return self.filter(discipline=service)

    def sent_by(self, user: User) -> ReferralQuerySet:
        return self.filter(referred_by=user)

    def board_order(self) -> ReferralQuerySet:
        """New referrals (to triage) first, then the nearest deadline."""
        untriaged = models.Case(
            models.When(state=S.SENT, then=0), default=1, output_field=models.IntegerField()
        )
        return self.alias(untriaged=untriaged).order_by("untriaged", "due_at", "id")


# The history model is named explicitly: pghistory's default ("ReferralEvent") is taken.
@pghistory.track(model_name="ReferralHistory")
class Referral(models.Model):
    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="referrals"
    )
    discipline = models.CharField(max_length=30, choices=ReferralDiscipline.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = models.TextField(
        max_length=limits.NOTE, help_text="The question for the receiving discipline."
    )
    referred_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="referrals_sent"
    )
    state = models.CharField(max_length=15, choices=ReferralState.choices, default=S.SENT)
    sent_at = models.DateTimeField(default=timezone.now)
    target_working_days = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, max_length=limits.NOTE)
    cancel_reason = models.TextField(blank=True, max_length=limits.NOTE)
    scheduled_on = models.DateField(null=True, blank=True)
    summary = models.TextField(
        blank=True, max_length=limits.REPORT, help_text="The receiving discipline's summary back."
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            # Referral.objects.breached(at=...) for the alerts sweep: only the rows still
            # waiting for a response, by deadline.
            models.Index(
                fields=["due_at"],
                name="referral_awaiting_due",
                condition=Q(state__in=["sent", "triaged"]),
            ),
            # The board: one discipline's referrals by state.
            models.Index(fields=["discipline", "state", "due_at"], name="referral_board"),
            models.Index(fields=["patient", "discipline", "state"], name="referral_patient_open"),
        ]
        constraints = [
            models.CheckConstraint(
                name="referral_due_after_sent", condition=Q(due_at__gt=models.F("sent_at"))
            ),
            models.CheckConstraint(
                name="referral_declined_has_reason",
                condition=~Q(state="declined") | ~Q(decline_reason=""),
                violation_error_message="A declined referral needs a reason.",
            ),
            models.CheckConstraint(
                name="referral_cancelled_has_reason",
                condition=~Q(state="cancelled") | ~Q(cancel_reason=""),
                violation_error_message="A cancelled referral needs a reason.",
            ),
            models.CheckConstraint(
                name="referral_scheduled_has_date",
                condition=~Q(state="scheduled") | Q(scheduled_on__isnull=False),
                violation_error_message="A scheduled referral needs a date.",
            ),
            models.CheckConstraint(
                name="referral_completed_has_summary",
                condition=~Q(state__in=["completed", "acknowledged"]) | ~Q(summary=""),
                violation_error_message="A completed referral needs a summary.",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.external_id}"

    def get_absolute_url(self) -> str:
        return reverse("referrals:detail", kwargs={"referral_id": self.external_id})

    # -- the state machine -------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def awaits_response(self) -> bool:
        return self.state in AWAITING_RESPONSE

    def is_receiver(self, user: User) -> bool:
        if self.discipline in SERVICES_WITH_USERS:
            return service_of(user) == self.discipline and may(user, Perm.REFERRAL_RESPOND_OWN)
        # Services outside the team: recorded on their behalf (clinic.permissions says by whom).
        return may(user, Perm.REFERRAL_RESPOND_EXTERNAL)

    def is_referrer_side(self, user: User) -> bool:
        if user.pk == self.referred_by_id and may(user, Perm.REFERRAL_CLOSE_OWN):
            return True
        return may(user, Perm.REFERRAL_CLOSE_TEAM)

    def refusal(self, action: str, user: User) -> str | None:
        """Why ``user`` may not take ``action`` now, or None if they may."""
        transition = TRANSITIONS.get(action)
        if transition is None:
            return f"“{action}” is not something a referral can do."
        if self.state not in transition.sources:
            return (
                f"This referral is {self.get_state_display().lower()}, so it cannot be "
                f"{transition.done} now."
            )
        allowed = (
            self.is_receiver(user)
            if transition.side == Side.RECEIVER
            else self.is_referrer_side(user)
        )
        if not allowed:
            return f"Only {Side(transition.side).label} can mark this referral {transition.done}."
        return None

    def actions_for(self, user: User) -> list[Transition]:
        return [t for t in TRANSITIONS.values() if self.refusal(t.action, user) is None]

    # -- the clock ---------------------------------------------------------------------------

    def is_breached(self, at: datetime) -> bool:
        return self.awaits_response and at > self.due_at

    @property
    def responded_late(self) -> bool:
        return self.responded_at is not None and self.responded_at > self.due_at

    def clock_text(self, at: datetime) -> str:
        """ "2 days 3 h left" / "overdue by 5 h" while waiting; "" once responded."""
        if not self.awaits_response:
            return ""
        left = self.due_at - at
        if left >= timedelta(0):
            return f"{_duration(left)} left"
        return f"overdue by {_duration(-left)}"


def _duration(span: timedelta) -> str:
    days, seconds = span.days, span.seconds
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


class ReferralEvent(Correctable):
    """One step of a referral's life: who moved it from which state to which, and why.

    Its note can be corrected (amended, or marked entered in error); the step itself stands,
    because the referral's state is what it is (a wrong step is undone by the next one)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="steps")
    by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=15)
    from_state = models.CharField(max_length=15, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(max_length=15, choices=ReferralState.choices)
    note = models.TextField(blank=True, max_length=limits.REPORT)

    objects = CorrectableQuerySet.as_manager()
    author_field = "by"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"], name="referral_event_at")]
        constraints = correction_constraints("referral_event")

    def __str__(self) -> str:
        return f"Referral event {self.pk}: {self.from_state or '-'} → {self.to_state}"
