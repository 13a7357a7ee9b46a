"""The multidisciplinary team (MDT) meeting: who met, which patients they discussed, what they
decided, and who does what by when.

A meeting belongs to one care team: only that team's members see it (another team gets a 404,
as for a patient of theirs). A patient is put on a meeting's list with the question the team is
asked (:class:`MdtCase`); the discussion and the decision are recorded on the case, and each
action is assigned to a member of the team with a due date (:class:`MdtAction`), which stays in
that person's list until it is marked done.

The rules here are about one row; the workflows (who may add what, when) are in
``patients.mdt.services``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Self

import pghistory
from django.db import models
from django.db.models import Q
from django.urls import reverse

from clinic import limits
from clinic.dates import from_1900
from patients.models.scoping import PatientOwnedQuerySet

if TYPE_CHECKING:
    from clinic.accounts.models import User


class MdtMeetingQuerySet(models.QuerySet["MdtMeeting"]):
    """A meeting is the team's: its members see it and change it, nobody else (an emergency
    grant to one patient opens no meeting)."""

    def visible_to(self, user: User) -> Self:
        if not getattr(user, "is_clinician", False):
            return self.none()
        team_ids = user.care_teams.through.objects.filter(user=user).values("careteam_id")
        return self.filter(care_team__in=team_ids)

    def editable_by(self, user: User) -> Self:
        return self.visible_to(user)

    def upcoming(self, *, on: date) -> Self:
        return self.filter(held_on__gte=on)


@pghistory.track()
class MdtMeeting(models.Model):
    care_team = models.ForeignKey(
        "accounts.CareTeam", on_delete=models.PROTECT, related_name="mdt_meetings"
    )
    held_on = models.DateField("Date of the meeting")
    title = models.CharField(max_length=120, default="MDT meeting")
    attendees = models.ManyToManyField("accounts.User", related_name="mdt_meetings", blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MdtMeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [
            # The meetings page lists a team's meetings by date.
            models.Index(fields=["care_team", "held_on"], name="mdt_meeting_team_on"),
        ]
        constraints = [*from_1900("mdt_meeting", "held_on")]

    def __str__(self) -> str:
        return f"{self.title} {self.held_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("mdt:meeting", kwargs={"meeting_id": self.pk})

    def is_past(self, *, on: date) -> bool:
        return self.held_on < on

    def outcome_refusal(self, *, on: date) -> str:
        """Why an outcome cannot be recorded for this meeting on `on` ("" when it can): a
        decision is what the meeting said, so not before the meeting has happened."""
        if self.held_on > on:
            return (
                f"The meeting is on {self.held_on:%d %b %Y}: record what it decided on or "
                "after that day."
            )
        return ""


class MdtCaseQuerySet(PatientOwnedQuerySet["MdtCase"]):
    def decided(self) -> Self:
        return self.exclude(decision="")


@pghistory.track()
class MdtCase(models.Model):
    """One patient on one meeting's list, with the question asked and what was decided."""

    meeting = models.ForeignKey(MdtMeeting, on_delete=models.CASCADE, related_name="cases")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="mdt_cases"
    )
    question = models.TextField(
        max_length=limits.NOTE, help_text="What the team is asked to decide."
    )
    added_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    discussion = models.TextField(blank=True, max_length=limits.NOTE)
    decision = models.TextField(blank=True, max_length=limits.NOTE)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = MdtCaseQuerySet.as_manager()

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "patient"], name="mdt_case_once"),
            models.CheckConstraint(
                name="mdt_case_decision_complete",
                condition=Q(decision="", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(decision="") & Q(decided_at__isnull=False, decided_by__isnull=False)),
            ),
        ]
        indexes = [models.Index(fields=["patient", "meeting"], name="mdt_case_patient")]

    def __str__(self) -> str:
        return f"MDT case {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("mdt:case", kwargs={"case_id": self.pk})

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)


class MdtActionQuerySet(PatientOwnedQuerySet["MdtAction"]):
    def open(self) -> Self:
        return self.filter(done_at__isnull=True)

    def assigned_to(self, user: User) -> Self:
        return self.filter(assigned_to=user)


@pghistory.track()
class MdtAction(models.Model):
    """Something the meeting asked one person to do by a date."""

    case = models.ForeignKey(MdtCase, on_delete=models.CASCADE, related_name="actions")
    # The case's patient, kept on the row so that the actions are scoped like any patient-owned
    # row (PatientOwnedQuerySet) without a join through the case.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="mdt_actions"
    )
    description = models.CharField(max_length=300)
    assigned_to = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="mdt_actions"
    )
    due_on = models.DateField("Due")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.CharField(max_length=300, blank=True)

    objects = MdtActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # Each person's open actions (patients.mdt.services.open_actions_for), by due date.
            models.Index(
                fields=["assigned_to", "due_on"],
                condition=Q(done_at__isnull=True),
                name="mdt_action_open_by_person",
            ),
        ]
        constraints = [
            *from_1900("mdt_action", "due_on"),
            models.CheckConstraint(
                name="mdt_action_done_complete",
                condition=Q(done_at__isnull=True, done_by__isnull=True)
                | Q(done_at__isnull=False, done_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"MDT action {self.pk}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, *, on: date) -> bool:
        return not self.is_done and self.due_on < on
