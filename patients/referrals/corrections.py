"""Correcting what was written on a referral: the note of one of its steps (the reason it was
sent with, a triage or scheduling note, the reason for a decline or a cancellation, the
summary back). The step itself stands: the referral's state is what it is, and a wrong step is
undone by the next one.

A note the referral depends on (the reason it was sent, declined or cancelled, the summary) can
be amended, and the referral shows the corrected text; it cannot be entered in error, because
the referral would be left without it. Any other note can be either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic import limits
from clinic.accounts.models import User
from clinic.audit.models import Category
from patients.corrections import engine
from patients.corrections.registry import CorrectableKind
from patients.models import Referral, ReferralEvent

# The step whose note is also a field of the referral, and that field.
MIRRORED = {"send": "reason", "decline": "decline_reason", "cancel": "cancel_reason"}
MIRRORED |= {"complete": "summary"}


def mirrored_field(event: ReferralEvent) -> str:
    return MIRRORED.get(event.action, "")


def note_of(event: ReferralEvent) -> str:
    """The text a step carries: its note, or for "send" the referral's reason."""
    if event.action == "send" and not event.note:
        return event.referral.reason
    return event.note


def refusal(event: ReferralEvent, step: str) -> str | None:
    if step == "error" and mirrored_field(event):
        return "The referral needs this text: amend it instead of marking it entered in error."
    if not note_of(event):
        return "This step has no note to correct."
    return None


def mark_note_in_error(*, record: ReferralEvent, reason: str, by: User) -> ReferralEvent:
    message = refusal(record, "error")
    if message:
        raise ValidationError(message)
    return engine.mark_entered_in_error(
        record=record,
        reason=reason,
        by=by,
        patient_id=record.referral.patient_id,
        category=Category.REFERRAL,
    )


def amend_note(*, event: ReferralEvent, note: str, reason: str, by: User) -> ReferralEvent:
    """Replace a step's note; a note the referral mirrors (reason, summary ...) changes there
    too (the referral's history keeps the old text)."""
    text = note.strip()
    field = mirrored_field(event)
    if field and not text:
        raise ValidationError({"note": "The referral needs this text: it cannot be empty."})

    def build(original: ReferralEvent) -> ReferralEvent:
        replacement = ReferralEvent.objects.create(
            referral=original.referral,
            by=original.by,  # who took the step; who corrected it is on the original
            at=original.at,
            action=original.action,
            from_state=original.from_state,
            to_state=original.to_state,
            note=text,
            amends=original,
        )
        if field:
            referral = Referral.objects.select_for_update().get(pk=original.referral_id)
            setattr(referral, field, text)
            referral.save(update_fields=[field, "updated_at"])
        return replacement

    with transaction.atomic():
        return engine.amend(
            record=event,
            reason=reason,
            by=by,
            patient_id=event.referral.patient_id,
            category=Category.REFERRAL,
            build=build,
        )


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Note", max_length=limits.REPORT, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = required


def _form(event: ReferralEvent, data: Mapping[str, Any] | None) -> forms.Form:
    return NoteForm(data, required=bool(mirrored_field(event)), initial={"note": note_of(event)})


def _describe(event: ReferralEvent) -> str:
    referral = event.referral
    return (
        f"Referral to {referral.get_discipline_display()}, step “{event.action}” of "
        f"{event.at:%d %b %Y %H:%M}: {note_of(event)}"
    )


REFERRAL_NOTE = CorrectableKind(
    key="referral-note",
    label="Referral note",
    model=ReferralEvent,
    patient_path="referral__patient",
    category=Category.REFERRAL,
    related=("referral", "by"),
    return_url=lambda patient, event: event.referral.get_absolute_url() + "#referral-history",
    describe=_describe,
    mark_in_error=mark_note_in_error,
    amend=lambda *, record, form, reason, by: amend_note(
        event=record, note=form.cleaned_data["note"], reason=reason, by=by
    ),
    amend_form=_form,
    refusal=refusal,
)
