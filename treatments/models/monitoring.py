"""Monitoring items materialised from protocols, and the patient-level care plan.

An item is one dated duty ("ALT, month 3 after the first dose"). Its identity is the engine's
key `(rule_key, anchor_on, occurrence)` within its plan, so re-synchronising after a new dose
or a stop updates the same rows instead of adding new ones.
"""

from __future__ import annotations

from datetime import date, timedelta

import pghistory
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from clinic import limits
from patients.models.scoping import PatientOwnedQuerySet
from treatments.protocols import get_investigation


class ItemStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    BOOKED = "booked", "Booked"
    DONE_IN_WINDOW = "done_in_window", "Done in window"
    DONE_LATE = "done_late", "Done late"
    # Never stored: an open item becomes overdue by the calendar, not by a write (status_on),
    # so nothing has to flip rows at midnight and a missed sweep cannot leave one stale.
    OVERDUE = "overdue", "Overdue"
    WAIVED = "waived", "Waived"
    CANCELLED = "cancelled", "Cancelled"
    # Due before the clinic went live (ClinicSettings.go_live_on): part of a history entered
    # afterwards (treatments.plans.history, treatments.golive). Kept so the schedule shows the
    # true anchors, but nobody was tracking it in Myelin then: it is never open, so no sweep,
    # worklist or alert ever picks it up (every one of them asks for OPEN_STATUSES).
    BEFORE_GO_LIVE = "before_go_live", "Before go-live"


OPEN_STATUSES = (ItemStatus.SCHEDULED, ItemStatus.BOOKED)
DONE_STATUSES = (ItemStatus.DONE_IN_WINDOW, ItemStatus.DONE_LATE)
# Rows a re-sync must never touch: someone did or decided something about them.
SETTLED_STATUSES = (*DONE_STATUSES, ItemStatus.WAIVED)
# Rows a re-sync may re-mark as before or after go-live when their due date moves (never a
# booked row: someone arranged it).
GO_LIVE_MARKABLE = (ItemStatus.SCHEDULED, ItemStatus.BEFORE_GO_LIVE)

DUE_SOON_DAYS = 7


@pghistory.track()
class CarePlan(models.Model):
    """The duties every active patient has whatever the drug (the `general` protocol).

    Design choice: the general protocol is materialised once per patient, not per DMT plan, so a
    patient with no DMT still gets neurology reviews and MRI. It is anchored on the start of the
    patient's most recent DMT plan (so the re-baseline MRI falls 6 months after a start or switch)
    and, before any DMT, on the diagnosis date (else the date tracking began). Duties whose
    window closed before `tracking_from` are not materialised: a patient diagnosed ten years ago
    is not shown ten years of missed reviews.
    """

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="care_plan"
    )
    protocol_version = models.ForeignKey(
        "treatments.ProtocolVersion", on_delete=models.PROTECT, related_name="care_plans"
    )
    anchor_on = models.DateField()
    anchor_label = models.CharField(max_length=80)
    tracking_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Care plan {self.pk}"


class MonitoringItemQuerySet(PatientOwnedQuerySet["MonitoringItem"]):
    def open(self) -> MonitoringItemQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, *, on: date) -> MonitoringItemQuerySet:
        """Open items whose window closed before `on` (served by monitoring_open_close_idx)."""
        return self.open().filter(window_closes_on__lt=on)

    def due_within(self, *, on: date, days: int = DUE_SOON_DAYS) -> MonitoringItemQuerySet:
        """Open items not yet overdue whose due date falls within `days` of `on`."""
        return self.open().filter(window_closes_on__gte=on, due_on__lte=on + timedelta(days=days))

    def booked(self) -> MonitoringItemQuerySet:
        return self.filter(status=ItemStatus.BOOKED)


@pghistory.track()
class MonitoringItem(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="monitoring_items"
    )
    plan = models.ForeignKey(
        "treatments.DmtPlan",
        on_delete=models.PROTECT,
        related_name="items",
        null=True,
        blank=True,
    )
    care_plan = models.ForeignKey(
        CarePlan, on_delete=models.PROTECT, related_name="items", null=True, blank=True
    )
    protocol_version = models.ForeignKey(
        "treatments.ProtocolVersion", on_delete=models.PROTECT, related_name="+"
    )
    rule_key = models.CharField(max_length=60)
    investigation = models.CharField(max_length=40)
    anchor = models.CharField(max_length=20)
    anchor_on = models.DateField()
    occurrence = models.IntegerField()
    due_on = models.DateField()
    window_opens_on = models.DateField()
    window_closes_on = models.DateField()
    explanation = models.TextField()
    source = models.CharField(max_length=200, blank=True)
    survives_stop = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=ItemStatus.choices, default=ItemStatus.SCHEDULED
    )
    booked_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    result = models.OneToOneField(
        "treatments.Result",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="closed_item",
    )
    edss = models.ForeignKey(
        "patients.EdssAssessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The EDSS that closed this neurology review (recorded on the patient record).",
    )
    # One item per duty: when the general duties ask for the same test on the same day as the
    # drug's protocol, the drug's item is the one item and says both reasons
    # (treatments.plans.schedule.sync_care_plan); the general rule it answers is kept here.
    merged_from = models.CharField(max_length=60, blank=True)
    merged_why = models.TextField(blank=True)
    waived_reason = models.TextField(blank=True, max_length=limits.REASON)
    cancelled_reason = models.CharField(max_length=200, blank=True)
    settled_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The clinic day the overdue sweep (treatments.monitoring.sweeps.sweep_overdue) first saw this item
    # overdue, set once per overdue episode by a compare-and-swap update (the row count says
    # which of two concurrent sweeps won). "Overdue" itself stays calendar-derived (status_on);
    # this records when someone was told. Kept once the item is done or waived; cleared when a
    # re-sync moves the window later or cancels the item, so a new episode gets a new date.
    overdue_since = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MonitoringItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # Serves MonitoringItemQuerySet.overdue() / due_within(): the nurse worklist
            # (treatments.plans.views.worklist) and the alerts engine's overdue sweep. Only open rows
            # are indexed, so the index stays small however many years of done items pile up.
            models.Index(
                fields=["window_closes_on", "due_on"],
                condition=Q(status__in=["scheduled", "booked"]),
                name="monitoring_open_close_idx",
            ),
            models.Index(fields=["patient", "due_on"], name="monitoring_patient_due"),
            # Every item by the day its window closes, done or not: the quality dashboard's
            # adherence figures (treatments.quality.services.monitoring_adherence) read a
            # period's items from here, the columns they count included, without the table.
            models.Index(
                fields=["window_closes_on"],
                include=["status", "investigation", "protocol_version", "patient", "completed_on"],
                name="monitoring_window_closes_idx",
            ),
            # A team's open items, patient by patient: the worklist's tab counts and rows, the
            # patient page's monitoring panel. Done items (most of a long history) stay out.
            models.Index(
                fields=["patient", "window_closes_on"],
                condition=Q(status__in=["scheduled", "booked"]),
                name="monitoring_patient_open_idx",
            ),
            # Items with an overdue episode on record that is still open (or was cancelled):
            # treatments.monitoring.sweeps.sweep_overdue clears the date when a re-sync moves the window
            # later or cancels the item, and the worklist / scale bench can order the overdue
            # by how long they have been flagged. Settled rows drop out of the index.
            models.Index(
                fields=["overdue_since"],
                condition=Q(overdue_since__isnull=False)
                & Q(status__in=["scheduled", "booked", "cancelled"]),
                name="monitoring_overdue_since_idx",
            ),
            # Open items never flagged this episode: the overdue sweep's candidates. After a
            # complete run none of them has a window closed before today, so a sweep with
            # nothing due is one probe of this (small) index, however large the table.
            models.Index(
                fields=["window_closes_on"],
                condition=Q(overdue_since__isnull=True) & Q(status__in=["scheduled", "booked"]),
                name="monitoring_unflagged_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "rule_key", "anchor_on", "occurrence"],
                condition=Q(plan__isnull=False),
                name="monitoring_item_plan_key",
            ),
            models.UniqueConstraint(
                fields=["care_plan", "rule_key", "anchor_on", "occurrence"],
                condition=Q(care_plan__isnull=False),
                name="monitoring_item_care_plan_key",
            ),
            models.CheckConstraint(
                name="monitoring_item_one_owner",
                condition=(Q(plan__isnull=False) & Q(care_plan__isnull=True))
                | (Q(plan__isnull=True) & Q(care_plan__isnull=False)),
            ),
            models.CheckConstraint(
                name="monitoring_item_window_order",
                condition=Q(window_opens_on__lte=models.F("due_on"))
                & Q(due_on__lte=models.F("window_closes_on")),
            ),
            models.CheckConstraint(
                name="monitoring_item_status_stored", condition=~Q(status="overdue")
            ),
            models.CheckConstraint(
                name="monitoring_item_booked_has_date",
                condition=~Q(status="booked") | Q(booked_on__isnull=False),
            ),
            models.CheckConstraint(
                name="monitoring_item_done_has_date",
                condition=~Q(status__in=["done_in_window", "done_late"])
                | Q(completed_on__isnull=False),
            ),
            models.CheckConstraint(
                name="monitoring_item_waived_has_reason",
                condition=~Q(status="waived") | ~Q(waived_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Monitoring item {self.pk} ({self.rule_key} due {self.due_on:%Y-%m-%d})"

    @property
    def key(self) -> tuple[str, date, int]:
        return (self.rule_key, self.anchor_on, self.occurrence)

    @property
    def why(self) -> str:
        """Why this is due: the rule's explanation, and the general duty it also answers."""
        if not self.merged_why:
            return self.explanation
        return f"{self.explanation} Also the general duty: {self.merged_why}"

    @property
    def investigation_name(self) -> str:
        try:
            return get_investigation(self.investigation).name
        except LookupError:
            return self.investigation

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_settled(self) -> bool:
        return self.status in SETTLED_STATUSES

    @property
    def is_before_go_live(self) -> bool:
        return self.status == ItemStatus.BEFORE_GO_LIVE

    @staticmethod
    def go_live_status(due_on: date, go_live_on: date | None) -> ItemStatus:
        """Scheduled, or before go-live when the clinic's go-live date is after the due date."""
        if go_live_on is not None and due_on < go_live_on:
            return ItemStatus.BEFORE_GO_LIVE
        return ItemStatus.SCHEDULED

    @staticmethod
    def annotate_status(items: list[MonitoringItem], today: date) -> list[MonitoringItem]:
        """Templates cannot call status_on(day): attach the day's status to each row."""
        for item in items:
            item.display_status = item.status_on(today)  # type: ignore[attr-defined]
        return items

    def status_on(self, day: date) -> ItemStatus:
        """The status a clinician sees on `day`: an open item past its window is overdue."""
        if self.is_open and day > self.window_closes_on:
            return ItemStatus.OVERDUE
        return ItemStatus(self.status)

    def is_due_soon(self, day: date, days: int = DUE_SOON_DAYS) -> bool:
        return (
            self.is_open and self.window_closes_on >= day and self.due_on <= day + timedelta(days)
        )

    def days_overdue(self, day: date) -> int:
        return max(0, (day - self.window_closes_on).days) if self.is_open else 0

    def completion_status(self, done_on: date) -> ItemStatus:
        """A result taken after the window closed is late; any earlier one counts as on time
        (an early test still answers the question the duty asks)."""
        return (
            ItemStatus.DONE_LATE if done_on > self.window_closes_on else ItemStatus.DONE_IN_WINDOW
        )

    def can_take_result(self) -> bool:
        return self.is_open


class OverdueRecheck(models.Model):
    """An item whose overdue episode may have changed behind the overdue sweep's back: the
    sweep's durable to-do list, so that it never has to re-read every flagged item.

    Rows are written by database triggers (migration 0019), whatever path made the change (a
    service, a bulk update, an import, a person): a flagged item whose status or window
    changed, a flagged open item whose overdue alert stopped standing (resolved
    automatically, or deleted), and the item of an overdue alert raised or reopened by anyone
    but the sweep (which flags the item first), so that an alert with no overdue item behind
    it is resolved. treatments.monitoring.sweeps.sweep_overdue takes them with
    SKIP LOCKED, puts the item's alert right (resolve, raise or reopen) and deletes the row in
    the same transaction. No foreign key: the trigger fires inside other writers' statements,
    and a row whose item is gone is simply dropped.
    """

    item_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"recheck item {self.item_id}"
