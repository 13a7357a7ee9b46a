"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import DateField, PatientDatesMixin
from treatments.errors import ServiceErrorMixin
from treatments.models import (
    PLAN_CONDITION_CHOICES,
    AdministrationKind,
    ClinicSettings,
    ProtocolVersion,
    StopReason,
)


def drug_choices(region: str | None = None) -> list[tuple[str, str]]:
    region = region or ClinicSettings.load().label_region
    rows = (
        ProtocolVersion.objects.drugs()
        .filter(region=region)
        .order_by("drug_name")
        .values_list("drug_key", "drug_name")
        .distinct()
    )
    return [("", "Choose a drug…"), *rows]


class PlanForm(ServiceErrorMixin, forms.Form):
    drug_key = forms.ChoiceField(label="Drug")
    conditions = forms.MultipleChoiceField(
        choices=PLAN_CONDITION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Patient facts that switch on conditional monitoring (e.g. eye exams, PML MRI).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["drug_key"].choices = drug_choices()  # type: ignore[attr-defined]


class StartForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    started_on = DateField(label="First dose given on")
    override_reason = forms.CharField(
        label="Reason to start with baseline checks outstanding",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed if the checklist is incomplete; recorded and shown on the plan.",
    )

    def __init__(self, *args: Any, may_override: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Overriding the baseline gate is a capability (clinic.permissions.Perm.OVERRIDE_GATE):
        # without it the form has no reason field, and the service refuses one anyway.
        if not may_override:
            del self.fields["override_reason"]


class AdministrationForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    kind = forms.ChoiceField(choices=AdministrationKind.choices)
    given_on = DateField(label="Given on")
    note = forms.CharField(required=False, max_length=200)


class ReasonDateForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    on = DateField(label="Date")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class StopForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    stopped_on = DateField(label="Stopped on (last dose or decision date)")
    reason = forms.ChoiceField(choices=[("", "Choose a reason…"), *StopReason.choices])
    note = forms.CharField(
        label="Details", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SwitchForm(StopForm):
    to_drug_key = forms.ChoiceField(label="Switch to")
    conditions = forms.MultipleChoiceField(
        choices=PLAN_CONDITION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_drug_key"].choices = drug_choices()  # type: ignore[attr-defined]


class ConditionsForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    conditions = forms.MultipleChoiceField(
        choices=PLAN_CONDITION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )


class BaselineTickForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    investigation = forms.CharField(widget=forms.HiddenInput)
    done_on = DateField(label="Done on")
    note = forms.CharField(required=False, max_length=200)
