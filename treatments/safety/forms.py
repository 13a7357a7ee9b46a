"""Forms for side-effect reports and the natalizumab PML risk inputs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from clinic import limits
from clinic.forms import DateField, PatientDatesMixin
from treatments.models import PriorImmunosuppressant, SideEffectAction
from treatments.safety.services import SafetyError

OTHER = ""


class SafetyFormMixin:
    def add_service_error(self, error: SafetyError) -> None:
        field = error.field if error.field in self.fields else None  # type: ignore[attr-defined]
        self.add_error(field, error.message)  # type: ignore[attr-defined]
        if error.confirm:
            self.ask_to_confirm(error.confirm)

    def ask_to_confirm(self, name: str) -> None:
        """Show the confirmation checkbox that goes with a plausibility warning."""
        if name in self.fields:  # type: ignore[attr-defined]
            self.fields[name].widget = forms.CheckboxInput()  # type: ignore[attr-defined]


class SideEffectForm(PatientDatesMixin, SafetyFormMixin, forms.Form):
    effect = forms.ChoiceField(
        label="Side effect",
        required=False,
        help_text="Listed for the drug in the catalogue; choose “Other” and describe it below if "
        "it is not listed.",
    )
    effect_other = forms.CharField(
        label="Description", max_length=200, required=False, help_text="Or in addition: details."
    )
    onset_on = DateField(label="Onset date")
    ctcae_grade = forms.IntegerField(
        label="CTCAE grade",
        min_value=1,
        max_value=5,
        help_text="1 mild · 2 moderate · 3 severe · 4 life-threatening · 5 death.",
        error_messages={
            "min_value": "The CTCAE grade is 1 to 5.",
            "max_value": "The CTCAE grade is 1 to 5.",
            "invalid": "Enter a CTCAE grade from 1 to 5.",
        },
    )
    serious = forms.BooleanField(
        label="Serious (hospitalisation, disability, life-threatening or death)", required=False
    )
    action_taken = forms.ChoiceField(label="Action taken", choices=SideEffectAction.choices)
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Shown (as a checkbox) only with the warning that the onset is before the drug started.
    onset_before_start_confirmed = forms.BooleanField(
        label="The onset before the drug was started is right: save it",
        required=False,
        widget=forms.HiddenInput(),
    )

    def __init__(self, *args: Any, side_effects: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effect"].choices = [  # type: ignore[attr-defined]
            (OTHER, "Other (describe below)"),
            *((name, name) for name in side_effects),
        ]

    def clean_onset_on(self) -> Any:
        onset = self.cleaned_data["onset_on"]
        if onset > timezone.localdate():
            raise forms.ValidationError("The onset date cannot be in the future.")
        return onset

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("effect") and not (data.get("effect_other") or "").strip():
            self.add_error("effect_other", "Choose a listed side effect or describe it.")
        return data


class PmlInputsForm(SafetyFormMixin, forms.Form):
    prior_immunosuppressant = forms.ChoiceField(
        label="Prior immunosuppressant",
        choices=PriorImmunosuppressant.choices,
        help_text="Before natalizumab: mitoxantrone, azathioprine, methotrexate, "
        "cyclophosphamide or mycophenolate (not interferon, glatiramer or steroids).",
    )
    extended_interval_dosing = forms.BooleanField(
        label="Extended-interval dosing (every 6 weeks; off-label)", required=False
    )
