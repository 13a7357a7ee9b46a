"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import DateInput
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


OVERRIDE_HELP = (
    "Only when gates of the catalogue are not met: your reason to give it anyway. Each "
    "overridden gate is recorded, audited and shown on the timeline and the plan's history."
)


class GateActionForm(ServiceErrorMixin, forms.Form):
    """A start or a dose: the gates are checked by the service; only someone who may override
    them (a neurologist) is offered the override reason."""

    override_reason = forms.CharField(
        label="Reason to override the unmet gates",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=OVERRIDE_HELP,
    )

    def __init__(self, *args: Any, can_override: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override_reason"]

    def reason_given(self) -> str:
        return str(self.cleaned_data.get("override_reason") or "")


class StartForm(GateActionForm):
    started_on = forms.DateField(label="First dose given on", widget=DateInput)
    field_order = ["started_on", "override_reason"]


class AdministrationForm(GateActionForm):
    kind = forms.ChoiceField(choices=AdministrationKind.choices)
    given_on = forms.DateField(label="Given on", widget=DateInput)
    note = forms.CharField(required=False, max_length=200)
    field_order = ["kind", "given_on", "note", "override_reason"]


class ReasonDateForm(ServiceErrorMixin, forms.Form):
    on = forms.DateField(label="Date", widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class StopForm(ServiceErrorMixin, forms.Form):
    stopped_on = forms.DateField(label="Stopped on (last dose or decision date)", widget=DateInput)
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


class ConditionsForm(ServiceErrorMixin, forms.Form):
    conditions = forms.MultipleChoiceField(
        choices=PLAN_CONDITION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )


class BaselineTickForm(ServiceErrorMixin, forms.Form):
    investigation = forms.CharField(widget=forms.HiddenInput)
    done_on = forms.DateField(label="Done on", widget=DateInput)
    note = forms.CharField(required=False, max_length=200)
