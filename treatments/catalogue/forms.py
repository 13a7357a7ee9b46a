"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from django import forms

from clinic.forms import DateInput
from treatments.errors import ServiceErrorMixin
from treatments.models import (
    ClinicSettings,
)


class SettingsForm(ServiceErrorMixin, forms.ModelForm):
    class Meta:
        model = ClinicSettings
        fields = ["label_region", "review_interval_months", "go_live_on"]
        widgets = {"go_live_on": DateInput()}

    def clean_review_interval_months(self) -> int:
        value: int = self.cleaned_data["review_interval_months"]
        if not 3 <= value <= 6:
            raise forms.ValidationError("Choose an interval between 3 and 6 months.")
        return value
