"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic import limits
from clinic.forms import DateField
from treatments import labs
from treatments.errors import ServiceErrorMixin
from treatments.models import (
    ClinicSettings,
    RangeSex,
)


class SettingsForm(ServiceErrorMixin, forms.ModelForm):
    go_live_on = DateField(
        label="Go-live date",
        required=False,
        help_text=(
            "The day the clinic began tracking in Myelin. Monitoring of past therapy that fell "
            "due before it is shown as 'before go-live' and never alerts."
        ),
    )

    class Meta:
        model = ClinicSettings
        fields = [
            "label_region",
            "review_interval_months",
            "go_live_on",
            "phq9_enabled",
            "relapse_review_hours",
        ]

    def clean_review_interval_months(self) -> int:
        value: int = self.cleaned_data["review_interval_months"]
        if not 3 <= value <= 6:
            raise forms.ValidationError("Choose an interval between 3 and 6 months.")
        return value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out (an older form, a script): the clinic keeps its target.
        self.fields["relapse_review_hours"].required = False

    def clean_relapse_review_hours(self) -> int:
        value: int | None = self.cleaned_data.get("relapse_review_hours")
        if value is None:
            return self.instance.relapse_review_hours
        if not 1 <= value <= 168:
            raise forms.ValidationError("Choose a target between 1 and 168 hours (a week).")
        return value


def _analyte_choices() -> list[tuple[str, str]]:
    listed = sorted(labs.ANALYTES.values(), key=lambda a: a.name.casefold())
    return [("", "Choose a test…"), *[(a.key, f"{a.name} ({a.canonical_unit})") for a in listed]]


class ReferenceRangeForm(ServiceErrorMixin, forms.Form):
    """A new version of a clinic default range; the service decides whether it is allowed."""

    analyte = forms.ChoiceField(label="Test")
    sex = forms.ChoiceField(label="Sex", choices=RangeSex.choices, initial=RangeSex.ANY)
    age_from_years = forms.IntegerField(
        label="From age (years)", required=False, min_value=0, max_value=130
    )
    age_to_years = forms.IntegerField(
        label="Below age (years)", required=False, min_value=1, max_value=130
    )
    low = forms.DecimalField(
        label="Lower limit",
        required=False,
        max_digits=14,
        decimal_places=4,
        help_text="In the test's unit shown in the list (its canonical unit).",
    )
    high = forms.DecimalField(label="Upper limit", required=False, max_digits=14, decimal_places=4)
    source = forms.CharField(label="Source", max_length=200)
    note = forms.CharField(
        label="Note (the choice made, what to verify)",
        required=False,
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    valid_from = DateField(label="Takes effect on")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["analyte"].choices = _analyte_choices()  # type: ignore[attr-defined]
