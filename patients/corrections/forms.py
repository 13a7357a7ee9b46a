"""The reason every correction needs; the amended record's own form is its record type's."""

from __future__ import annotations

from django import forms

from patients.models.corrections import REASON_MAX_LENGTH


class ReasonForm(forms.Form):
    prefix = "correction"

    reason = forms.CharField(
        label="Reason for the correction",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown with the corrected record, e.g. “transcription error: wrong patient”.",
        error_messages={"required": "Give the reason for the correction."},
    )
