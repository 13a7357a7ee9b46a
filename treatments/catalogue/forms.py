"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from django import forms

from treatments.models import (
    ClinicSettings,
)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ClinicSettings
        fields = ["label_region", "review_interval_months", "phq9_enabled"]

    def clean_review_interval_months(self) -> int:
        value: int = self.cleaned_data["review_interval_months"]
        if not 3 <= value <= 6:
            raise forms.ValidationError("Choose an interval between 3 and 6 months.")
        return value
