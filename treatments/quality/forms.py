"""The dashboard's filters: a period and a team (of the user's own teams, or any for admins)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from clinic.accounts.models import CareTeam, User
from clinic.forms import DateField
from treatments.protocols import add_months
from treatments.quality.services import Period, Scope, default_period, scope_for_teams

# A longer period is a different question (and a slower page): ask for it in pieces.
MAX_MONTHS = 36
EARLIEST = date(2000, 1, 1)


class QualityFilterForm(forms.Form):
    start = DateField(label="From")
    end = DateField(label="To")
    team = forms.ModelChoiceField(queryset=CareTeam.objects.none(), required=False)

    def __init__(self, data: Any, *, user: User, today: date) -> None:
        start, end = default_period(today)
        merged = {"start": start.isoformat(), "end": end.isoformat(), "team": ""}
        if data:
            merged |= {key: data.get(key, merged[key]) for key in merged if key in data}
        super().__init__(merged)
        self.user, self.today = user, today
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)
        if user.is_clinic_admin:
            field.queryset = CareTeam.objects.order_by("name")
            field.empty_label = "The whole clinic"
        else:
            field.queryset = user.care_teams.order_by("name")
            field.empty_label = "All my teams"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and start < EARLIEST:
            self.add_error("start", f"Choose a date from {EARLIEST:%Y} on.")
        if end and end > self.today:
            self.add_error("end", "The period cannot end after today.")
        if start and end and start > end:
            self.add_error("end", "The end of the period must be on or after its start.")
        elif start and end and add_months(start, MAX_MONTHS) <= end:
            self.add_error("end", f"Choose a period of at most {MAX_MONTHS} months.")
        return cleaned

    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"], self.today)

    def scope(self) -> Scope:
        team = self.cleaned_data.get("team")
        if team is not None:
            return scope_for_teams([team])
        if self.user.is_clinic_admin:
            return scope_for_teams(None)
        return scope_for_teams(list(self.fields["team"].queryset))  # type: ignore[attr-defined]

    def querystring(self) -> str:
        """The filters as a query string, for the CSV and drill-down links."""
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        query["start"] = self.cleaned_data["start"].isoformat()
        query["end"] = self.cleaned_data["end"].isoformat()
        if self.cleaned_data.get("team") is not None:
            query["team"] = str(self.cleaned_data["team"].pk)
        return query.urlencode()
