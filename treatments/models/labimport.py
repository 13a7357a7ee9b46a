"""Laboratory results that arrive as messages (HL7 v2 ORU^R01 or CSV rows), the review queue of
those that could not be imported, and the clinic's own test codes.

Nothing that arrives is dropped: every message is stored as received before it is worked, and
ends imported, held in the review queue, or rejected by a person with a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from clinic import limits
from patients.models.scoping import PatientOwnedQuerySet

if TYPE_CHECKING:
    from clinic.accounts.models import User


class MessageFormat(models.TextChoices):
    HL7V2 = "hl7v2", "HL7 v2"
    CSV = "csv", "CSV"


class Channel(models.TextChoices):
    UPLOAD = "upload", "File upload"
    MLLP = "mllp", "MLLP listener"
    FILE = "file", "Command line"


class MessageState(models.TextChoices):
    RECEIVED = "received", "Received"
    IMPORTED = "imported", "Imported"
    QUEUED = "queued", "Held for review"
    REJECTED = "rejected", "Rejected"


class Problem(models.TextChoices):
    """Why a message is held for review (the plain-words reason is stored beside it)."""

    UNPARSEABLE = "unparseable", "Cannot be read"
    UNKNOWN_PATIENT = "unknown_patient", "Unknown patient"
    DOB_MISMATCH = "dob_mismatch", "Date of birth does not match"
    UNKNOWN_CODE = "unknown_code", "Unknown test code"
    BAD_VALUE = "bad_value", "Value cannot be used"
    UNSUPPORTED = "unsupported", "Not a lab result we import"


# Problems the sender caused and should hear about (NAK over MLLP); the others are matching
# work for the clinic, acknowledged so one unknown patient does not stop the lab's queue.
SENDER_PROBLEMS = frozenset({Problem.UNPARSEABLE, Problem.BAD_VALUE, Problem.UNSUPPORTED})


class InboundMessageQuerySet(models.QuerySet["InboundMessage"]):
    def queued(self) -> InboundMessageQuerySet:
        return self.filter(state=MessageState.QUEUED)


class InboundMessage(models.Model):
    """One message as it arrived: the raw text, who sent it, and what became of it.

    The sender's control id (MSH-10; for CSV a digest of the rows) is unique per sending
    facility, so the same message sent twice is recognised and creates nothing new. A message
    without a control id cannot be recognised again and is always held for review.
    """

    format = models.CharField(max_length=8, choices=MessageFormat.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sending_application = models.CharField(max_length=120, blank=True)
    sending_facility = models.CharField(max_length=120, blank=True)
    control_id = models.CharField(max_length=80, blank=True)
    message_type = models.CharField(max_length=20, blank=True)
    version = models.CharField(max_length=10, blank=True)
    raw = models.TextField()
    state = models.CharField(
        max_length=10, choices=MessageState.choices, default=MessageState.RECEIVED
    )
    problem = models.CharField(max_length=20, choices=Problem.choices, blank=True)
    reason = models.TextField(blank=True, help_text="Why it is held or rejected, in plain words.")
    ack_code = models.CharField(max_length=2, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The patient the message was matched to (or is a candidate for).",
    )
    results_count = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sending_facility", "control_id"],
                condition=~Q(control_id=""),
                name="inbound_message_once_per_sender",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="inbound_message_state"),
        ]

    def __str__(self) -> str:
        return f"Lab message {self.pk} ({self.get_state_display().lower()})"

    @property
    def is_held(self) -> bool:
        return self.state == MessageState.QUEUED

    @property
    def nak(self) -> bool:
        return self.ack_code in ("AE", "AR")


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    IMPORTED = "imported", "Imported after review"
    REJECTED = "rejected", "Rejected"


class ReviewItemQuerySet(PatientOwnedQuerySet["ReviewItem"]):
    def visible_to(self, user: User) -> ReviewItemQuerySet:  # type: ignore[override]
        """Items of the user's patients, and items matched to no patient yet: someone has to
        find whose result it is, so every nurse and neurologist of the clinic sees those."""
        if not (user.is_authenticated and user.is_active and user.is_clinician):
            return self.none()
        from patients.models import Patient

        return self.filter(
            Q(patient__in=Patient.objects.visible_ids(user)) | Q(patient__isnull=True)
        )

    def editable_by(self, user: User) -> ReviewItemQuerySet:  # type: ignore[override]
        """Items of the user's own teams' patients (never one seen through an emergency grant),
        and items matched to no patient yet, which any reviewer may match or reject."""
        return self.filter(
            Q(pk__in=super().editable_by(user).values("pk")) | Q(patient__isnull=True)
        ).filter(pk__in=self.visible_to(user).values("pk"))

    def open(self) -> ReviewItemQuerySet:
        return self.filter(status=ReviewStatus.OPEN)


class ReviewItem(models.Model):
    """A message in the review queue: a nurse matches it by hand or rejects it with a reason."""

    message = models.OneToOneField(InboundMessage, on_delete=models.PROTECT, related_name="review")
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The patient the message names, when it names a known one.",
    )
    problem = models.CharField(max_length=20, choices=Problem.choices)
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(
        blank=True,
        max_length=limits.NOTE,
        help_text="How it was resolved, or why it was rejected.",
    )

    objects = ReviewItemQuerySet.as_manager()

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(fields=["opened_at"], condition=Q(status="open"), name="review_item_open"),
        ]
        constraints = [
            models.CheckConstraint(
                name="review_item_closed_completely",
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False, closed_by__isnull=False)),
            ),
            models.CheckConstraint(
                name="review_item_rejection_has_reason",
                condition=~Q(status="rejected") | ~Q(note=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Review item {self.pk} ({self.get_problem_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN


class ImportedResult(models.Model):
    """Which message brought which result, under which laboratory order: a corrected (or final
    after preliminary) observation of the same order amends that result instead of adding one."""

    result = models.OneToOneField(
        "treatments.Result", on_delete=models.CASCADE, related_name="import_record"
    )
    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    order_key = models.CharField(max_length=200)
    status = models.CharField(max_length=1, help_text="The latest result status (P, F or C).")

    class Meta:
        indexes = [
            models.Index(fields=["patient", "order_key"], name="imported_result_order"),
        ]

    def __str__(self) -> str:
        return f"Import record of result {self.result_id}"


class LabCodeMappingQuerySet(models.QuerySet["LabCodeMapping"]):
    def lookup(self) -> dict[tuple[str, str, str], str]:
        """(facility, coding system, code) → target; blank facility or system means any."""
        return {
            (m.sending_facility.upper(), m.coding_system.upper(), m.code.upper()): m.target
            for m in self.all()
        }


class LabCodeMapping(models.Model):
    """A laboratory's own test code and the analyte it means (or blank: not tracked here).

    LOINC codes of the DMT catalogue are known without a row; a row is for a local code, or for
    a LOINC code the catalogue does not list (an older eGFR formula, say). A row for one sending
    facility wins over a row for any facility.
    """

    sending_facility = models.CharField(
        max_length=120, blank=True, help_text="MSH-4 of the laboratory; blank for any laboratory."
    )
    coding_system = models.CharField(
        max_length=20, blank=True, help_text="e.g. L (local) or LN (LOINC); blank for any."
    )
    code = models.CharField(max_length=40)
    target = models.CharField(
        max_length=40,
        blank=True,
        help_text="The analyte or test it means; blank when Myelin does not track it.",
    )
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = LabCodeMappingQuerySet.as_manager()

    # Stored in capitals (treatments.labimport.codes.save_mapping), as codes are compared.

    class Meta:
        ordering = ["sending_facility", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["sending_facility", "coding_system", "code"], name="lab_code_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Lab code {self.code}"
