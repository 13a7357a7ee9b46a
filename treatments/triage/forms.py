"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from clinic import limits
from clinic.forms import DateField, PatientDatesMixin
from patients.models.clinical import FS_CHOICES, Severity
from treatments.errors import ServiceErrorMixin
from treatments.models import Dipstick, FunctionalImpact, TriageOutcome
from treatments.protocols.relapse_triage import RELAPSE_TRIAGE
from treatments.triage.services import CallReport


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(attrs=attrs, format="%H:%M", **kwargs)


def _at(day: Any, clock: Any) -> datetime | None:
    if day is None or clock is None:
        return None
    return timezone.make_aware(datetime.combine(day, clock))


class TriageCallForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    called_on = DateField(label="Call taken on")
    called_time = forms.TimeField(label="at", widget=TimeInput)
    onset_on = DateField(label="Symptoms began on")
    duration_hours = forms.IntegerField(
        label="Symptoms have lasted (hours)",
        min_value=0,
        max_value=24 * 366,
        help_text=f"A relapse lasts at least {RELAPSE_TRIAGE.min_duration_hours} hours "
        f"({RELAPSE_TRIAGE.duration_source}).",
    )
    symptoms = forms.CharField(
        label="New or worse symptoms",
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    systems = forms.MultipleChoiceField(
        label="Systems affected",
        choices=FS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    fever = forms.BooleanField(label="Fever reported", required=False)
    temperature_c = forms.DecimalField(
        label="Temperature (°C), if measured",
        required=False,
        max_digits=3,
        decimal_places=1,
        help_text=f"{RELAPSE_TRIAGE.fever_from_c:g} °C or more counts as fever.",
    )
    infection_signs = forms.BooleanField(
        label="Infection signs (burning or frequent urine, cough, wound, ...)", required=False
    )
    dipstick = forms.ChoiceField(label="Urine dipstick", choices=Dipstick.choices)
    heat_trigger = forms.BooleanField(
        label="Heat as a trigger (hot weather, bath, exercise)", required=False
    )
    stress_trigger = forms.BooleanField(label="Stress as a trigger", required=False)
    functional_impact = forms.ChoiceField(choices=FunctionalImpact.choices)
    red_flags = forms.MultipleChoiceField(
        label="Red flags",
        choices=[(flag.key, flag.text) for flag in RELAPSE_TRIAGE.red_flags],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    outcome = forms.ChoiceField(
        choices=[("", "Use the suggestion"), *TriageOutcome.choices],
        required=False,
        help_text="Myelin suggests an outcome from the relapse definition; choose another only "
        "with a reason in the advice.",
    )
    advice = forms.CharField(
        label="Advice given",
        required=False,
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        called_at = _at(data.get("called_on"), data.get("called_time"))
        if called_at is not None:
            data["called_at"] = called_at
        return data

    def report(self) -> CallReport:
        data = self.cleaned_data
        return CallReport(
            onset_on=data["onset_on"],
            duration_hours=data["duration_hours"],
            symptoms=data["symptoms"],
            systems=tuple(data["systems"]),
            fever=data["fever"],
            temperature_c=data["temperature_c"],
            infection_signs=data["infection_signs"],
            dipstick=data["dipstick"],
            heat_trigger=data["heat_trigger"],
            stress_trigger=data["stress_trigger"],
            functional_impact=data["functional_impact"],
            red_flags=tuple(data["red_flags"]),
        )


class BookReviewForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    review_on = DateField(label="Review on")
    review_time = forms.TimeField(label="at", widget=TimeInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        review_at = _at(data.get("review_on"), data.get("review_time"))
        if review_at is not None:
            data["review_at"] = review_at
        return data


class RelapseFromCallForm(ServiceErrorMixin, forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    objectively_confirmed = forms.BooleanField(label="Confirmed on examination", required=False)


class RelapseTreatmentForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    regimen = forms.ChoiceField(
        label="Relapse treatment",
        choices=[(r.key, f"{r.drug}, {r.dose} ({r.source})") for r in RELAPSE_TRIAGE.regimens],
    )
    started_on = DateField(label="Starting on")


class CloseCallForm(ServiceErrorMixin, forms.Form):
    note = forms.CharField(
        label="How the call ended",
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Seen in clinic, advice followed, admitted, handed on ...",
    )
