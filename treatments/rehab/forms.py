from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import DateField, PatientDatesMixin
from patients.models import Patient, Referral, ReferralState
from treatments import outcomes
from treatments.models import Intervention, RehabSession, TherapyPlan
from treatments.models.rehab import MAX_DURATION, MIN_DURATION


class ReferralChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"{obj.get_discipline_display()} referral of {obj.sent_at:%d %b %Y} "
            f"({obj.get_state_display()})"
        )


class RehabSessionForm(PatientDatesMixin, forms.ModelForm):
    referral = ReferralChoiceField(
        queryset=Referral.objects.none(),
        required=False,
        help_text="The referral this session answers, if any.",
    )
    interventions = forms.MultipleChoiceField(
        choices=Intervention.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = RehabSession
        fields = [
            "held_on",
            "duration_minutes",
            "discipline",
            "setting",
            "interventions",
            "referral",
            "goals",
            "progress",
            "notes",
        ]
        field_classes = {"held_on": DateField}
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 2}),
            "progress": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, patient=patient, **kwargs)
        referral_field = self.fields["referral"]
        assert isinstance(referral_field, forms.ModelChoiceField)
        referral_field.queryset = Referral.objects.filter(patient=patient).exclude(
            state__in=[ReferralState.CANCELLED, ReferralState.DECLINED]
        )
        referral_field.required = False

    def clean_held_on(self) -> Any:
        day = self.cleaned_data["held_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The session date cannot be in the future.")
        return day

    def clean_duration_minutes(self) -> Any:
        minutes = self.cleaned_data["duration_minutes"]
        if not MIN_DURATION <= minutes <= MAX_DURATION:
            raise forms.ValidationError(
                f"A session lasts {MIN_DURATION} to {MAX_DURATION} minutes."
            )
        return minutes


class MeasureForm(forms.Form):
    """The raw fields of one outcome measure (prefixed by its key); left blank, it is skipped.

    Ranges and cross-field rules come from :func:`treatments.outcomes.validate`, so the messages
    next to each field are the same ones the scoring module uses."""

    def __init__(self, *args: Any, measure: outcomes.Measure, **kwargs: Any) -> None:
        kwargs["prefix"] = measure.key
        super().__init__(*args, **kwargs)
        self.measure = measure
        for spec in measure.fields:
            self.fields[spec.key] = forms.DecimalField(
                label=f"{spec.label} ({spec.unit})" if spec.unit else spec.label,
                required=False,
                widget=forms.NumberInput(attrs={"step": "1" if spec.whole_number else "any"}),
            )

    @property
    def item_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("item_")]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("item_")]

    def values(self) -> dict[str, Decimal]:
        data = getattr(self, "cleaned_data", {})
        return {key: value for key, value in data.items() if value is not None}

    @property
    def entered(self) -> bool:
        return bool(self.values()) or any(
            self.data.get(self.add_prefix(name), "").strip() for name in self.fields
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = {key: value for key, value in cleaned.items() if value is not None}
        if values and not self.errors:
            for field, message in outcomes.validate(self.measure.key, values):
                self.add_error(None if field == outcomes.NON_FIELD else field, message)
        return cleaned


def measure_forms(data: Any = None) -> list[MeasureForm]:
    """The measures a session records (patient-reported-only ones come from questionnaires)."""
    return [
        MeasureForm(data, measure=measure)
        for measure in outcomes.MEASURES.values()
        if not measure.patient_reported_only
    ]


class TherapyPlanForm(PatientDatesMixin, forms.ModelForm):
    class Meta:
        model = TherapyPlan
        fields = ["discipline", "goals", "planned_sessions", "frequency", "starts_on"]
        field_classes = {"starts_on": DateField}
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_planned_sessions(self) -> Any:
        n = self.cleaned_data["planned_sessions"]
        if not 1 <= n <= 100:
            raise forms.ValidationError("A plan has 1 to 100 sessions.")
        return n
