from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from clinic.audit.models import Action, Category
from clinic.forms import DateField

SORTS = {
    "at": "at",
    "-at": "-at",
    "user": "user__username",
    "-user": "-user__username",
    "patient": "patient__mrn",
    "-patient": "-patient__mrn",
    "action": "action",
    "-action": "-action",
    "category": "category",
    "-category": "-category",
}


class AuditFilterForm(forms.Form):
    start = DateField(label="From", required=False)
    end = DateField(label="To", required=False)
    user = forms.ModelChoiceField(
        label="User", queryset=get_user_model().objects.order_by("username"), required=False
    )
    mrn = forms.CharField(label="Patient MRN", max_length=12, required=False)
    action = forms.ChoiceField(
        label="Action", choices=[("", "Any"), *Action.choices], required=False
    )
    category = forms.ChoiceField(
        label="Data", choices=[("", "Any"), *Category.choices], required=False
    )
    sort = forms.ChoiceField(
        choices=[(k, k) for k in SORTS], required=False, widget=forms.HiddenInput
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end of the period is before its start.")
        return data
