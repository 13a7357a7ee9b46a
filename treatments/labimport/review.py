"""The review queue: a held message matched by hand (to a patient the nurse has checked, with
the codes she chose) and imported again, or rejected with a reason. Both are audited."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.labimport import csvfile, hl7v2, services
from treatments.labimport.matching import VALID_TARGETS
from treatments.labimport.report import LabReport, ParseProblem
from treatments.models import (
    InboundMessage,
    MessageFormat,
    MessageState,
    ReviewItem,
    ReviewStatus,
)


def parsed_report(message: InboundMessage) -> LabReport:
    """Read a stored message again (raises ParseProblem if it cannot be read)."""
    if message.format == MessageFormat.CSV:
        return csvfile.parse_csv_report(message.raw)
    return hl7v2.parse_oru(message.raw)


def resolve_review(
    *,
    item: ReviewItem,
    by: User,
    patient: Patient | None = None,
    code_choices: Mapping[str, str] | None = None,
    note: str = "",
) -> InboundMessage:
    """Import a held message again, matched by hand: to `patient` (whose identity the nurse
    has checked, so the date of birth is not compared again) and with the codes she chose.
    If it still cannot be imported, the item stays open with the new reason."""
    if not item.is_open:
        raise TreatmentError("This message has already been dealt with.")
    if code_choices and any(v not in VALID_TARGETS for v in code_choices.values()):
        raise TreatmentError("Choose a listed test for each code.")
    try:
        report = parsed_report(item.message)
    except ParseProblem as problem:
        raise TreatmentError(
            f"This message cannot be read ({problem.message}); reject it with a reason."
        ) from None
    message = InboundMessage.objects.get(pk=item.message_id)
    run = services.ImportRun.prepare([report], by=by, codes=services.code_book(code_choices))
    services.import_message(
        message, report, by=by, run=run, patient=patient, note=note.strip() or "Matched by hand."
    )
    if patient is not None:
        audit.record(
            user=by,
            patient=patient,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="lab message matched by hand",
        )
    return message


def reject_review(*, item: ReviewItem, by: User, reason: str) -> ReviewItem:
    if not item.is_open:
        raise TreatmentError("This message has already been dealt with.")
    if not reason.strip():
        raise TreatmentError("Give a reason for rejecting this message.", field="reason")
    with transaction.atomic():
        now = timezone.now()
        item.status = ReviewStatus.REJECTED
        item.closed_at = now
        item.closed_by = by
        item.note = reason.strip()
        item.save(update_fields=["status", "closed_at", "closed_by", "note"])
        InboundMessage.objects.filter(pk=item.message_id).update(
            state=MessageState.REJECTED, reason=reason.strip(), settled_at=now
        )
        audit.record(
            user=by,
            patient=item.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="lab message rejected",
        )
    return item
