"""The caseload's filters: the patient's clinical picture and the treatment columns."""

from __future__ import annotations

from typing import Any

from django import forms

from patients.models import (
    CaseloadFilters,
    CaseloadScope,
    CaseloadSort,
    DiseaseCourse,
    PatientStatus,
)
from treatments.caseload.services import dmt_choices

STATUS_FILTER_CHOICES = [*PatientStatus.choices, ("any", "Any status")]


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(label="Name or MRN", required=False, max_length=100)
    scope = forms.ChoiceField(
        label="Show", choices=CaseloadScope.choices, required=False, initial=CaseloadScope.MINE
    )
    course = forms.ChoiceField(
        label="Disease course",
        choices=[("", "Any course"), *DiseaseCourse.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label="Patient status", choices=STATUS_FILTER_CHOICES, required=False, initial="active"
    )
    relapse_recent = forms.BooleanField(label="Relapse in the last 90 days", required=False)
    edss_worsening = forms.BooleanField(
        label="EDSS worsening",
        required=False,
        help_text="Latest EDSS up, or progression confirmed in the last year",
    )
    neda_lost = forms.BooleanField(label="NEDA-3 lost last year", required=False)
    pira = forms.BooleanField(
        label="PIRA",
        required=False,
        help_text="Confirmed progression independent of relapse activity, ever",
    )
    dmt = forms.ChoiceField(label="Current DMT", choices=[("", "Any DMT")], required=False)
    overdue = forms.BooleanField(label="Overdue monitoring", required=False)
    open_alerts = forms.BooleanField(label="Open alerts", required=False)
    sort = forms.ChoiceField(
        label="Sort by", choices=CaseloadSort.choices, required=False, initial=CaseloadSort.NAME
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dmt"].choices = [("", "Any DMT"), *dmt_choices()]  # type: ignore[attr-defined]

    def filters(self) -> CaseloadFilters:
        """The filters asked for; anything invalid falls back to the default view."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or "active"
        return CaseloadFilters(
            scope=data.get("scope") or CaseloadScope.MINE,
            query=data.get("q", ""),
            course=data.get("course", ""),
            status="" if status == "any" else status,
            relapse_recent=bool(data.get("relapse_recent")),
            edss_worsening=bool(data.get("edss_worsening")),
            neda_lost=bool(data.get("neda_lost")),
            pira=bool(data.get("pira")),
            dmt=data.get("dmt", ""),
            overdue=bool(data.get("overdue")),
            open_alerts=bool(data.get("open_alerts")),
            sort=data.get("sort") or CaseloadSort.NAME,
        )
