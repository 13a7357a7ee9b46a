from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from clinic import limits
from clinic.forms import DateField
from patients.models import TRANSITIONS, ReferralDiscipline, ReferralState, ReferralTarget, Urgency


class ReferralForm(forms.Form):
    discipline = forms.ChoiceField(choices=ReferralDiscipline.choices)
    urgency = forms.ChoiceField(
        choices=Urgency.choices,
        initial=Urgency.ROUTINE,
        help_text="Sets the response deadline (working days) the clinic agreed for the discipline.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=limits.NOTE,
        help_text="What you are asking the receiving discipline to do, and why now.",
    )
    create_anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("Say what you are asking for (at least a few words).")
        return reason


class TransitionForm(forms.Form):
    """One form for every step; the fields a step needs are made required in __init__."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=limits.NOTE
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=limits.NOTE
    )
    scheduled_on = DateField(label="Appointment date", required=False)
    summary = forms.CharField(
        label="Summary for the referrer",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=limits.REPORT,
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        kwargs["prefix"] = action
        super().__init__(*args, **kwargs)
        self.action = action
        needs = TRANSITIONS[action].needs
        for name in ("reason", "scheduled_on", "summary"):
            if name == needs:
                self.fields[name].required = True
            else:
                del self.fields[name]
        if needs:
            del self.fields["note"]
        if "reason" in self.fields:
            self.fields["reason"].label = (
                "Why you are declining" if action == "decline" else "Why you are cancelling"
            )
            self.fields["reason"].error_messages["required"] = "Give a reason."
        if "summary" in self.fields:
            self.fields["summary"].error_messages["required"] = "Write a summary for the referrer."
        if "scheduled_on" in self.fields:
            self.fields["scheduled_on"].error_messages["required"] = "Give the appointment date."

    def clean_scheduled_on(self) -> Any:
        day = self.cleaned_data.get("scheduled_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("The appointment cannot be in the past.")
        return day

    def details(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class BoardFilterForm(forms.Form):
    state = forms.ChoiceField(
        choices=[("", "Any open state"), ("all", "All, closed included"), *ReferralState.choices],
        required=False,
    )
    urgency = forms.ChoiceField(choices=[("", "Any urgency"), *Urgency.choices], required=False)


class TargetForm(forms.ModelForm):
    class Meta:
        model = ReferralTarget
        fields = ["working_days"]

    def clean_working_days(self) -> Any:
        days = self.cleaned_data["working_days"]
        if not 1 <= days <= 120:
            raise forms.ValidationError("A response target is 1 to 120 working days.")
        return days


class BaseTargetFormSet(forms.BaseModelFormSet):
    """Edits the targets that exist; it never adds one. A tampered or stale post (more forms
    than targets, a form without its target's id) is a message on the form, not a new row."""

    def clean(self) -> None:
        super().clean()
        if any(form.instance.pk is None for form in self.forms if form.has_changed()):
            raise forms.ValidationError(
                "This form no longer matches the list of targets: reload the page and enter "
                "your changes again.",
                code="stale",
            )


TargetFormSet = forms.modelformset_factory(
    ReferralTarget, form=TargetForm, formset=BaseTargetFormSet, extra=0, edit_only=True
)
