"""The one way a clinical record is corrected: amended, or marked entered in error.

Each record type's own module (`patients.records.corrections`, `treatments.*.corrections`)
says how a corrected record is rebuilt and what it derives; this module does what every
correction shares, in one transaction:

* the row is locked, so two people correcting it at once leave one correction (the second is
  told it was already corrected);
* who may: the record's author (`record_amend_own`) or anyone who may correct any record of
  their care teams (`record_amend_any`, a neurologist); `CapabilityDenied` (403) otherwise;
* a reason, required and limited in length (`ValidationError` on the `reason` field);
* the original is marked, never changed otherwise and never deleted; an amendment is a new row
  built by the record type's `build`, which runs after the original was marked, so it is
  validated against the standing records exactly like a new one (the original no longer
  counts: an EDSS can be moved to another day, and not onto a day that has one);
* one audit event per correction (`Action.AMEND` / `Action.ENTERED_IN_ERROR`, ONC
  170.315(d)(4)), naming the record by type and id, never its content or the reason.

The record type's service then recomputes what the record derives (CDP, NEDA-3, monitoring,
alerts, PML risk ...) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action
from clinic.permissions import CapabilityDenied
from patients.models.corrections import REASON_MAX_LENGTH, Correctable, Correction

if TYPE_CHECKING:
    from clinic.accounts.models import User


def clean_reason(reason: str) -> str:
    """The reason as stored, or a ValidationError on the `reason` field."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": "Give the reason for the correction."})
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"The reason is at most {REASON_MAX_LENGTH} characters ({len(text)} given)."}
        )
    return text


def lock_for_correction[C: Correctable](record: C, by: User, *, by_source: bool = False) -> C:
    """The record's row, locked, if `by` may correct it now. `by_source`: the correction comes
    from where the record came from (the laboratory corrects its own result, through the lab
    import, whose own capabilities decide who may feed it): only "already corrected" refuses."""
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    if by_source and locked.correction:
        raise ValidationError(f"This record was already {locked.get_correction_display().lower()}.")  # type: ignore[attr-defined]
    refusal = None if by_source else locked.correction_refusal(by)
    if refusal is not None:
        if locked.correction:
            raise ValidationError(refusal)
        raise CapabilityDenied(refusal)
    return locked


def _mark(record: Correctable, correction: Correction, reason: str, by: User) -> None:
    record.correction = correction
    record.corrected_at = timezone.now()
    record.corrected_by = by
    record.correction_reason = reason
    record.save(update_fields=["correction", "corrected_at", "corrected_by", "correction_reason"])


def _label(record: Correctable) -> str:
    return str(record._meta.verbose_name)


def mark_entered_in_error[C: Correctable](
    *, record: C, reason: str, by: User, patient_id: int, category: str
) -> C:
    """Mark the record entered in error (it stays, shown struck through). Returns the locked,
    marked row; the caller recomputes what it derived, in its own transaction."""
    text = clean_reason(reason)
    with transaction.atomic():
        locked = lock_for_correction(record, by)
        _mark(locked, Correction.ENTERED_IN_ERROR, text, by)
        audit.record(
            user=by,
            patient=patient_id,
            action=Action.ENTERED_IN_ERROR,
            category=category,
            obj=locked,
            detail=f"{_label(locked)} marked entered in error",
        )
    return locked


def amend[C: Correctable](
    *,
    record: C,
    reason: str,
    by: User,
    patient_id: int,
    category: str,
    build: Callable[[C], C],
    by_source: bool = False,
) -> C:
    """Replace the record by the one `build(original)` saves (with `amends=original`).

    `build` validates like the record type's own "record" workflow and raises ValidationError
    (field-keyed) to refuse: then nothing is changed, the original included."""
    text = clean_reason(reason)
    with transaction.atomic():
        locked = lock_for_correction(record, by, by_source=by_source)
        _mark(locked, Correction.AMENDED, text, by)
        replacement = build(locked)
        if replacement.amends_id != locked.pk:  # type: ignore[attr-defined]
            raise RuntimeError("An amendment must point to the record it replaces.")
        audit.record(
            user=by,
            patient=patient_id,
            action=Action.AMEND,
            category=category,
            obj=locked,
            detail=f"{_label(locked)} amended; replaced by {replacement.pk}",
        )
    return replacement
