from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import DateField, PatientDatesMixin
from patients.models import Referral
from treatments.errors import ServiceErrorMixin
from treatments.models import Conditioning


class TransplantForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    referral = forms.ModelChoiceField(
        queryset=Referral.objects.none(),
        label="Transplant-centre referral",
        empty_label="Choose the accepted referral…",
    )
    centre = forms.CharField(label="Transplant centre", max_length=120)
    conditioning = forms.ChoiceField(choices=[("", "Choose the regimen…"), *Conditioning.choices])
    mobilised_on = DateField(label="Mobilisation date", required=False)
    transplanted_on = DateField(label="Stem-cell reinfusion (day 0)")
    contraception_confirmed = forms.BooleanField(
        label="Contraception confirmed (women: from mobilisation, as the centre advises)",
        required=False,
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, patient: Any, referrals: Any, **kwargs: Any) -> None:
        super().__init__(*args, patient=patient, **kwargs)
        self.fields["referral"].queryset = referrals  # type: ignore[attr-defined]
        self.fields["referral"].label_from_instance = (  # type: ignore[attr-defined]
            lambda r: f"Sent {r.sent_at:%d %b %Y} · {r.get_state_display()}"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        mobilised, day_0 = data.get("mobilised_on"), data.get("transplanted_on")
        if day_0 is not None and day_0 > timezone.localdate():
            self.add_error("transplanted_on", "The transplant cannot be in the future.")
        if mobilised is not None and day_0 is not None and mobilised > day_0:
            self.add_error("mobilised_on", "Mobilisation comes before the reinfusion (day 0).")
        return data
