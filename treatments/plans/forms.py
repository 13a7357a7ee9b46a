"""Forms validate input shape; the services decide (and refuse) the clinical workflow."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic import limits
from clinic.forms import DateField, PatientDatesMixin
from treatments.dosing import DoseEntry
from treatments.errors import ServiceErrorMixin
from treatments.models import (
    PLAN_CONDITION_CHOICES,
    AdministrationKind,
    ClinicSettings,
    ProtocolVersion,
    StopReason,
)
from treatments.plans.past_doses import parse_days, parse_past_doses
from treatments.protocols import BsaDosing


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


class GateActionForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    """A start or a dose: the gates are checked by the service; only someone who may override
    them (a neurologist) is offered the override reason."""

    override_reason = forms.CharField(
        label="Reason to override the unmet gates",
        required=False,
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=OVERRIDE_HELP,
    )

    def __init__(
        self,
        *args: Any,
        can_override: bool = True,
        by_bsa: BsaDosing | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override_reason"]
        if by_bsa is not None:
            # Ranges are checked by treatments.dosing (the service), with its own messages.
            self.fields["dose_mg_m2"] = forms.DecimalField(
                label="Dose (mg/m²)",
                required=False,
                max_digits=5,
                decimal_places=2,
                help_text=f"Usual dose {by_bsa.usual_mg_m2:g} mg/m² ({by_bsa.source}); "
                f"lifetime maximum {by_bsa.max_cumulative_mg_m2:g} mg/m².",
            )
            self.fields["height_cm"] = forms.DecimalField(
                label="Height (cm)", required=False, max_digits=4, decimal_places=1
            )
            self.fields["weight_kg"] = forms.DecimalField(
                label="Weight (kg)", required=False, max_digits=4, decimal_places=1
            )
            self.fields["bsa_m2"] = forms.DecimalField(
                label="BSA (m²)",
                required=False,
                max_digits=4,
                decimal_places=2,
                help_text="Give height and weight (BSA by Mosteller), or the BSA alone.",
            )
            if "override_reason" in self.fields:
                self.fields["override_reason"] = self.fields.pop("override_reason")


def dose_entry(data: dict[str, Any]) -> DoseEntry | None:
    """The dose typed into a form that asks for one (a drug dosed by body-surface area)."""
    if "dose_mg_m2" not in data:
        return None
    return DoseEntry(
        mg_m2=data.get("dose_mg_m2"),
        height_cm=data.get("height_cm"),
        weight_kg=data.get("weight_kg"),
        bsa_m2=data.get("bsa_m2"),
    )


class StartForm(GateActionForm):
    started_on = DateField(label="First dose given on")
    field_order = ["started_on", "override_reason"]

    def __init__(self, *args: Any, contraception: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if contraception:
            # The label's words, so the nurse confirms what is actually asked.
            self.fields["contraception_confirmed"] = forms.BooleanField(
                label=f"Contraception discussed and in place: {contraception}",
                required=False,
            )
            self.order_fields(["started_on", "contraception_confirmed"])


class AdministrationForm(GateActionForm):
    kind = forms.ChoiceField(choices=AdministrationKind.choices)
    given_on = DateField(label="Given on")
    note = forms.CharField(required=False, max_length=200)
    field_order = ["kind", "given_on", "note", "override_reason"]


class ReasonDateForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    on = DateField(label="Date")
    reason = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}))


class StopForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    stopped_on = DateField(label="Stopped on (last dose or decision date)")
    reason = forms.ChoiceField(choices=[("", "Choose a reason…"), *StopReason.choices])
    note = forms.CharField(
        label="Details",
        required=False,
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
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
    investigation = forms.CharField(max_length=40, widget=forms.HiddenInput)
    done_on = DateField(label="Done on")
    note = forms.CharField(required=False, max_length=200)


class DateListField(forms.CharField):
    """Dates, one per line (commas or semicolons work too), as YYYY-MM-DD."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Years of infusions, one date a line: far more than anyone types, far less than a page.
        kwargs.setdefault("max_length", 4000)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = super().to_python(value)
        try:
            return parse_days(text or "")
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class PastDoseListField(DateListField):
    """Past doses, one per line: the date and, for a drug dosed by body-surface area, its dose
    in mg/m² and the BSA in m²."""

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = forms.CharField.to_python(self, value)
        try:
            return parse_past_doses(text or "")
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


def bsa_dosed_drugs(region: str | None = None) -> list[str]:
    """The names of the drugs the clinic's catalogue doses by body-surface area."""
    region = region or ClinicSettings.load().label_region
    return list(
        ProtocolVersion.objects.drugs()
        .dosed_by_body_surface()
        .filter(region=region)
        .order_by("drug_name")
        .values_list("drug_name", flat=True)
        .distinct()
    )


class PastTherapyForm(ServiceErrorMixin, forms.Form):
    """A DMT the patient was on before Myelin: the service checks the dates against each other,
    the patient and the patient's other plans, and the doses of a drug dosed by body-surface
    area against the catalogue."""

    drug_key = forms.ChoiceField(label="Drug")
    started_on = DateField(label="First dose given on")
    # Ranges are checked by the service (treatments.dosing), with its own messages.
    dose_mg_m2 = forms.DecimalField(
        label="First dose (mg/m²)", required=False, max_digits=5, decimal_places=2
    )
    bsa_m2 = forms.DecimalField(
        label="BSA of the first dose (m²)", required=False, max_digits=4, decimal_places=2
    )
    doses = PastDoseListField(
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
    stopped_on = DateField(label="Stopped on", required=False, help_text="Empty if still on it.")
    stop_reason = forms.ChoiceField(
        label="Reason for stopping",
        required=False,
        choices=[("", "Still on it"), *StopReason.choices],
    )
    stop_note = forms.CharField(
        label="Details",
        required=False,
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    conditions = forms.MultipleChoiceField(
        choices=PLAN_CONDITION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = ClinicSettings.load().label_region
        self.fields["drug_key"].choices = drug_choices(region)  # type: ignore[attr-defined]
        by_bsa = ", ".join(bsa_dosed_drugs(region)) or "none in this catalogue"
        self.fields["dose_mg_m2"].help_text = (
            f"Only for a drug dosed by body-surface area ({by_bsa}): the first dose in mg/m², "
            "with the BSA it was calculated on. The lifetime limit counts every dose."
        )
        self.fields["doses"].help_text += (
            f" For a drug dosed by body-surface area ({by_bsa}): the date, the dose in mg/m² "
            "and the BSA in m² on each line, e.g. 2023-04-11 12 1.85 (without a BSA, the "
            "first dose's is used)."
        )

    def first_dose(self) -> DoseEntry | None:
        """The first dose's mg/m² and BSA as typed, if any."""
        data = self.cleaned_data
        if data.get("dose_mg_m2") is None and data.get("bsa_m2") is None:
            return None
        return DoseEntry(mg_m2=data.get("dose_mg_m2"), bsa_m2=data.get("bsa_m2"))
