"""Supportive care forms: the shape of the input; the services check dates against the goal and
the readings against the rules, and their refusals come back to the field they name."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic import limits
from clinic.accounts.models import User
from clinic.forms import DateField, PatientDatesMixin
from treatments.models import GoalStatus, ScreeningTool, SupportiveArea
from treatments.supportive.rules import VITAMIN_D_UNITS
from treatments.supportive.services import Readings

READING_FIELDS = {
    SupportiveArea.VITAMIN_D: (
        "vitamin_d_value",
        "vitamin_d_unit",
        "vitamin_d_measured_on",
        "supplementation",
    ),
    SupportiveArea.MOOD: ("screening_tool", "screening_score", "screened_on"),
}
ALL_READING_FIELDS = tuple(name for names in READING_FIELDS.values() for name in names)


class _Owner(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.role_label})"


class ReadingsMixin(forms.Form):
    vitamin_d_value = forms.DecimalField(
        label="25-OH vitamin D level",
        required=False,
        max_digits=7,
        decimal_places=2,
        help_text="Vitamin D goals only.",
    )
    vitamin_d_unit = forms.ChoiceField(
        label="Unit", choices=[(u, u) for u in VITAMIN_D_UNITS], initial="nmol/L", required=False
    )
    vitamin_d_measured_on = DateField(label="Level measured on", required=False)
    supplementation = forms.CharField(
        max_length=120, required=False, help_text="e.g. colecalciferol 1,000 IU daily"
    )
    screening_tool = forms.ChoiceField(
        label="Screening questionnaire",
        choices=[("", "—"), *ScreeningTool.choices],
        required=False,
        help_text="Mood goals only: PHQ-9 (0-27) or a HADS subscale (0-21).",
    )
    screening_score = forms.IntegerField(label="Score", required=False, min_value=0)
    screened_on = DateField(label="Screened on", required=False)

    def readings(self) -> Readings:
        data = self.cleaned_data
        return Readings(
            vitamin_d_value=data.get("vitamin_d_value"),
            vitamin_d_unit=data.get("vitamin_d_unit") or "nmol/L",
            vitamin_d_measured_on=data.get("vitamin_d_measured_on"),
            supplementation=data.get("supplementation") if "supplementation" in data else None,
            screening_tool=data.get("screening_tool") or "",
            screening_score=data.get("screening_score"),
            screened_on=data.get("screened_on"),
        )

    def keep_readings_of(self, area: str | None) -> None:
        """Show only the readings of this area (all of them when the area is still open)."""
        if area is None:
            return
        for name in ALL_READING_FIELDS:
            if name not in READING_FIELDS.get(area, ()):  # type: ignore[call-overload]
                del self.fields[name]

    def add_refusal(self, field: str, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)


class GoalForm(PatientDatesMixin, ReadingsMixin):
    area = forms.ChoiceField(choices=SupportiveArea.choices)
    goal = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    owner = _Owner(queryset=User.objects.none(), empty_label=None)
    started_on = DateField(label="Set on")
    review_on = DateField(label="Review by")
    note = forms.CharField(
        required=False, max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )

    field_order = ["area", "goal", "owner", "started_on", "review_on", "note"]

    def __init__(self, *args: Any, patient: Any, **kwargs: Any) -> None:
        super().__init__(*args, patient=patient, **kwargs)
        # The area chosen (posted, or picked from the panel) decides which readings are asked.
        area = (self.data.get("area") if self.is_bound else None) or self.initial.get("area")
        if area in SupportiveArea.values:
            self.keep_readings_of(area)
        self.fields["owner"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(care_teams=patient.care_team_id, is_active=True)
            .exclude(role="admin")
            .order_by("last_name", "first_name", "username")
        )


class ReviewForm(PatientDatesMixin, ReadingsMixin):
    reviewed_on = DateField(label="Reviewed on")
    status = forms.ChoiceField(choices=GoalStatus.choices, label="Status after this review")
    next_review_on = DateField(label="Next review by", required=False)
    note = forms.CharField(
        required=False, max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )

    field_order = ["reviewed_on", "status", "next_review_on", "note"]

    def __init__(self, *args: Any, patient: Any, area: str, **kwargs: Any) -> None:
        super().__init__(*args, patient=patient, **kwargs)
        self.keep_readings_of(area)
