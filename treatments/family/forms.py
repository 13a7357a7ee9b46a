"""Forms check the shape of the input and the dates that cannot be (at their field); the
services decide the rest."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import DateField, PatientDatesMixin
from treatments.errors import ServiceErrorMixin
from treatments.models import PregnancyOutcome
from treatments.protocols import family_dates


class FamilyPlanForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    intended_conception_on = DateField(label="Intended conception date")
    breastfeeding_intended = forms.BooleanField(
        label="Intends to breast-feed", required=False, initial=True
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_intended_conception_on(self) -> date:
        day: date = self.cleaned_data["intended_conception_on"]
        problems = family_dates.conception_date_problems(
            conceive_on=day, today=timezone.localdate()
        )
        if problems:
            raise forms.ValidationError(next(iter(problems.values())))
        return day


class EliminationLevelForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    taken_on = DateField(label="Taken on")
    value_mg_l = forms.DecimalField(
        label="Plasma teriflunomide (mg/L)", min_value=0, max_digits=6, decimal_places=3
    )


class PregnancyForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    conceived_on = DateField(
        label="Conception date (estimated)",
        help_text="About 2 weeks after the first day of the last period.",
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, patient: Any, **kwargs: Any) -> None:
        super().__init__(*args, patient=patient, **kwargs)
        self.patient = patient

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        conceived_on = data.get("conceived_on")
        if conceived_on is not None:
            problems = family_dates.pregnancy_date_problems(
                sex=self.patient.sex,
                born_on=self.patient.date_of_birth,
                conceived_on=conceived_on,
                today=timezone.localdate(),
            )
            for field, message in problems.items():
                self.add_error(field, message)
        return data


class PregnancyEndForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (PregnancyOutcome.DELIVERED.value, "Delivered"),
            (PregnancyOutcome.LOSS.value, "Pregnancy loss"),
        ]
    )
    ended_on = DateField(label="Delivery or end date")
    breastfeeding = forms.BooleanField(label="Breast-feeding", required=False)

    def __init__(self, *args: Any, pregnancy: Any, **kwargs: Any) -> None:
        super().__init__(*args, patient=pregnancy.patient, **kwargs)
        self.pregnancy = pregnancy

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ended_on = data.get("ended_on")
        if ended_on is not None:
            problems = family_dates.pregnancy_date_problems(
                sex=self.pregnancy.patient.sex,
                born_on=self.pregnancy.patient.date_of_birth,
                conceived_on=self.pregnancy.conceived_on,
                today=timezone.localdate(),
                ended_on=ended_on,
            )
            if "ended_on" in problems:
                self.add_error("ended_on", problems["ended_on"])
        if data.get("outcome") == PregnancyOutcome.LOSS and data.get("breastfeeding"):
            self.add_error("breastfeeding", "Breast-feeding goes with a delivery.")
        return data
