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
from treatments.plans.history import parse_days


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


class StartForm(ServiceErrorMixin, forms.Form):
    started_on = forms.DateField(label="First dose given on", widget=DateInput)
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


class AdministrationForm(ServiceErrorMixin, forms.Form):
    kind = forms.ChoiceField(choices=AdministrationKind.choices)
    given_on = forms.DateField(label="Given on", widget=DateInput)
    note = forms.CharField(required=False, max_length=200)


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


class DateListField(forms.CharField):
    """Dates, one per line (commas or semicolons work too), as YYYY-MM-DD."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = super().to_python(value)
        try:
            return parse_days(text or "")
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class PastTherapyForm(ServiceErrorMixin, forms.Form):
    """A DMT the patient was on before Myelin: the service checks the dates against each other,
    the patient and the patient's other plans."""

    drug_key = forms.ChoiceField(label="Drug")
    started_on = forms.DateField(label="First dose given on", widget=DateInput)
    doses = DateListField(
        label="Later doses or infusions",
        required=False,
        help_text=(
            "One date per line (YYYY-MM-DD), for drugs given as infusions or injections at "
            "intervals. Leave empty for a daily tablet or a regular injection."
        ),
    )
    courses = DateListField(
        label="Later treatment courses",
        required=False,
        help_text="For drugs given in courses (cladribine, alemtuzumab): each course's start.",
    )
    stopped_on = forms.DateField(
        label="Stopped on", required=False, widget=DateInput, help_text="Empty if still on it."
    )
    stop_reason = forms.ChoiceField(
        label="Reason for stopping",
        required=False,
        choices=[("", "Still on it"), *StopReason.choices],
    )
    stop_note = forms.CharField(
        label="Details", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    conditions = forms.MultipleChoiceField(
        choices=PLAN_CONDITION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["drug_key"].choices = drug_choices()  # type: ignore[attr-defined]
