"""The digest preferences form: the hour, and which non-critical kinds of alert it counts."""

from __future__ import annotations

from typing import Any

from django import forms

from treatments.alerts.digest import optional_kinds


class DigestPreferenceForm(forms.Form):
    digest_hour = forms.TypedChoiceField(
        label="Send my daily digest at",
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        help_text="Clinic time. The digest comes on the first run at or after this hour, only on "
        "days when something needs you.",
    )
    included_kinds = forms.MultipleChoiceField(
        label="Non-critical alerts the digest counts",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Critical alerts are always counted, and emailed to you at once.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["included_kinds"].choices = optional_kinds()  # type: ignore[attr-defined]
