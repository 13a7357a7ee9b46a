"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from django import forms

from clinic import limits
from clinic.forms import DateField, PatientDatesMixin
from treatments.errors import ServiceErrorMixin
from treatments.models import (
    Indication,
    TreatmentKind,
)


class SymptomaticForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    kind = forms.ChoiceField(choices=TreatmentKind.choices)
    drug = forms.CharField(max_length=120, help_text="Generic name, e.g. baclofen")
    indication = forms.ChoiceField(choices=Indication.choices)
    dose = forms.CharField(max_length=120, required=False)
    started_on = DateField()
    stopped_on = DateField(required=False)
    note = forms.CharField(
        required=False, max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )


class StopSymptomaticForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    stopped_on = DateField()


# --- results ---------------------------------------------------------------------------------
