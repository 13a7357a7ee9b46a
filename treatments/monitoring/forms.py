"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from clinic import limits
from clinic.forms import DateField, PatientDatesMixin
from treatments import labs
from treatments.errors import ServiceErrorMixin
from treatments.models import (
    QualitativeValue,
)
from treatments.monitoring.services import EnteredValue, result_analytes
from treatments.protocols import InvestigationKind, get_investigation

_FINDINGS = {
    "jcv_antibody": ["positive", "negative", "indeterminate"],
    "default_serology": ["positive", "negative", "indeterminate"],
    "procedure": ["normal", "abnormal"],
}


class BookForm(ServiceErrorMixin, forms.Form):
    booked_on = DateField(label="Book for")


class WaiveForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(label="Reason to waive", max_length=500)


class ReviewForm(ServiceErrorMixin, forms.Form):
    note = forms.CharField(label="Review note", required=False, max_length=500)


def investigation_choices() -> list[tuple[str, str]]:
    from treatments.protocols import INVESTIGATIONS

    listed = sorted(INVESTIGATIONS.values(), key=lambda inv: inv.name.casefold())
    return [("", "Choose a test…"), *[(inv.key, inv.name) for inv in listed]]


class ResultForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    """A result form shaped by the investigation: one row per numeric analyte (value, unit and
    the lab's range), a finding for qualitative tests, the index for JCV, macular oedema for
    eye exams, the study for MRI."""

    taken_on = DateField(label="Taken / done on")
    lab = forms.CharField(label="Reporting lab or site", required=False, max_length=120)

    def __init__(self, *args: Any, investigation: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.investigation = investigation
        inv = get_investigation(investigation)
        self.analytes = result_analytes(investigation)
        self.analyte_rows: list[dict[str, Any]] = []
        for analyte in self.analytes:
            spec = labs.get_analyte(analyte)
            self.fields[f"{analyte}_value"] = forms.DecimalField(
                label=spec.name, required=False, max_digits=14, decimal_places=4
            )
            self.fields[f"{analyte}_unit"] = forms.CharField(
                label=f"{spec.name} unit",
                initial=spec.canonical_unit,
                required=False,
                max_length=24,
                help_text="Accepted: " + ", ".join(spec.accepted_units),
            )
            self.fields[f"{analyte}_low"] = forms.DecimalField(
                label=f"{spec.name} lower limit", required=False, max_digits=14, decimal_places=4
            )
            self.fields[f"{analyte}_high"] = forms.DecimalField(
                label=f"{spec.name} upper limit", required=False, max_digits=14, decimal_places=4
            )
        if inv.allowed_values:
            listed = ", ".join(inv.allowed_values)
            self.fields["genotype"] = forms.ChoiceField(
                label="Genotype",
                choices=[("", "—"), *((v, v) for v in inv.allowed_values)],
                error_messages={
                    "required": f"Choose the genotype: one of {listed}.",
                    "invalid_choice": f"%(value)s is not a listed genotype: choose one of {listed}.",
                },
            )
        elif inv.kind == InvestigationKind.QUALITATIVE:
            options = _FINDINGS["default_serology"]
            if investigation == "urinalysis":
                options = _FINDINGS["procedure"]
            self.fields["qualitative"] = forms.ChoiceField(
                label="Finding", choices=[("", "—"), *_choices(options)], required=False
            )
        elif inv.kind == InvestigationKind.PROCEDURE and not self.analytes:
            self.fields["qualitative"] = forms.ChoiceField(
                label="Finding",
                choices=[("", "—"), *_choices(_FINDINGS["procedure"])],
                required=False,
            )
        if investigation == "jcv_antibody":
            self.fields["index_value"] = forms.DecimalField(
                label="Index", required=False, max_digits=8, decimal_places=3, min_value=0
            )
        if investigation == "eye_exam":
            self.fields["macular_oedema"] = forms.TypedChoiceField(
                label="Macular oedema",
                choices=[("", "—"), ("yes", "Yes"), ("no", "No")],
                coerce=lambda v: v == "yes",
                empty_value=None,
                required=True,
            )
        if investigation == "mri_brain":
            self.fields["mri_study_ref"] = forms.CharField(
                label="MRI study (date, site or accession)", required=False, max_length=120
            )
        self.fields["note"] = forms.CharField(
            label="Report / note",
            required=False,
            max_length=limits.NOTE,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        for analyte in self.analytes:
            self.analyte_rows.append(
                {
                    "name": labs.get_analyte(analyte).name,
                    "fields": [
                        self[f"{analyte}_{part}"] for part in ("value", "unit", "low", "high")
                    ],
                }
            )

    def other_fields(self) -> list[forms.BoundField]:
        skip = {f"{a}_{p}" for a in self.analytes for p in ("value", "unit", "low", "high")}
        return [self[name] for name in self.fields if name not in skip]

    def clean_taken_on(self) -> Any:
        taken_on = self.cleaned_data["taken_on"]
        if taken_on > timezone.localdate():
            raise forms.ValidationError("The result date cannot be in the future.")
        return taken_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for analyte in self.analytes:
            value = data.get(f"{analyte}_value")
            unit = (data.get(f"{analyte}_unit") or "").strip()
            if value is not None and not unit:
                self.add_error(f"{analyte}_unit", "Give the unit the lab reported.")
        return data

    def entered_values(self) -> list[EnteredValue]:
        data = self.cleaned_data
        values = []
        for analyte in self.analytes:
            value: Decimal | None = data.get(f"{analyte}_value")
            if value is None:
                continue
            values.append(
                EnteredValue(
                    analyte=analyte,
                    value=value,
                    unit=data[f"{analyte}_unit"].strip(),
                    low=data.get(f"{analyte}_low"),
                    high=data.get(f"{analyte}_high"),
                )
            )
        return values


def _choices(values: list[str]) -> list[tuple[str, str]]:
    labels = dict(QualitativeValue.choices)
    return [(v, labels[v]) for v in values]


class ChooseInvestigationForm(forms.Form):
    investigation = forms.ChoiceField(label="Test")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["investigation"].choices = investigation_choices()  # type: ignore[attr-defined]
