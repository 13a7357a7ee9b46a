"""Forms validate input shape; the services decide (and refuse) the clinical workflow.

The checklist form is built from the drug's catalogue entry. Saved, it may be partly blank;
sent to record the infusion ("strict"), every blank or stopping item is an error at its own
field, naming it, unless a neurologist gives a reason to override (the service checks again).
"""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import DateField, PatientDatesMixin
from treatments.errors import ServiceErrorMixin
from treatments.infusions.services import ChecklistEntry, checklist_gaps
from treatments.plans.forms import GateActionForm
from treatments.protocols.infusion_day import (
    REACTION_GRADES,
    REACTION_SOURCE,
    VITAL_SIGNS,
    VITAL_SIGNS_SOURCE,
    InfusionDay,
)


class NewVisitForm(PatientDatesMixin, ServiceErrorMixin, forms.Form):
    infusion_on = DateField(label="Infusion day")

    def __init__(self, *args: Any, courses: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if courses:
            self.fields["course_day"] = forms.IntegerField(
                label="Day of the course",
                min_value=1,
                max_value=5,
                help_text="Day 1 starts a course.",
            )


class DayForm(forms.Form):
    on = DateField(label="Day", required=False)


class ChecklistForm(GateActionForm):
    def __init__(
        self,
        *args: Any,
        day: InfusionDay,
        course_day: int | None,
        infusion_number: int,
        strict: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.day = day
        self.course_day = course_day
        self.infusion_number = infusion_number
        self.strict = strict
        override = self.fields.pop("override_reason", None)
        # What is left is the dose in mg/m² (a drug dosed by BSA): it goes after the checklist.
        dose_fields = {k: self.fields.pop(k) for k in list(self.fields)}
        for question in day.questions:
            self.fields[f"q_{question.key}"] = forms.ChoiceField(
                label=question.text,
                choices=[("", "—"), ("no", "No"), ("yes", "Yes")],
                required=False,
                help_text=f"If yes: {question.if_yes} ({question.source})",
            )
        for medicine in day.premedications:
            needed = medicine.required_on(course_day)
            self.fields[f"pm_{medicine.key}"] = forms.ChoiceField(
                label=f"Pre-medication: {medicine.text}",
                choices=[("", "—"), ("given", "Given"), ("not_given", "Not given")],
                required=False,
                help_text=("Required" if needed else "Not required today")
                + f" ({medicine.source})",
            )
        for when in ("before", "after"):
            for sign in VITAL_SIGNS:
                self.fields[f"{when}_{sign.key}"] = forms.DecimalField(
                    label=f"{sign.label} {when} ({sign.unit})",
                    required=False,
                    max_digits=5,
                    decimal_places=sign.decimals,
                    help_text=f"{sign.low:g}-{sign.high:g} {sign.unit}",
                )
        minutes = day.observation.minutes_for(infusion_number)
        self.fields["observed_minutes"] = forms.IntegerField(
            label="Observed after the infusion (minutes)",
            required=False,
            min_value=0,
            max_value=24 * 60,
            help_text=f"At least {minutes} min for this infusion: {day.observation.text} "
            f"({day.observation.source}).",
        )
        self.fields["reaction_grade"] = forms.TypedChoiceField(
            label="Infusion reaction",
            choices=[("", "—"), *((g.grade, g.text) for g in REACTION_GRADES)],
            coerce=int,
            empty_value=None,
            required=False,
            help_text=REACTION_SOURCE,
        )
        self.fields["reaction_note"] = forms.CharField(
            label="Reaction: what happened and what was done",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields.update(dose_fields)
        if override is not None:
            self.fields["override_reason"] = override
            override.label = "Reason to record despite the missing items or unmet gates"
        self.vital_signs_source = VITAL_SIGNS_SOURCE

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for when in ("before", "after"):
            for sign in VITAL_SIGNS:
                name = f"{when}_{sign.key}"
                value = data.get(name)
                if value is not None and not sign.low <= value <= sign.high:
                    self.add_error(
                        name,
                        f"{sign.label} {when}: between {sign.low:g} and {sign.high:g} "
                        f"{sign.unit}, please.",
                    )
        if self.strict and not self.errors and not (data.get("override_reason") or "").strip():
            for gap in checklist_gaps(
                day=self.day,
                entry=self.entry(),
                course_day=self.course_day,
                infusion_number=self.infusion_number,
            ):
                self.add_error(gap.field if gap.field in self.fields else None, gap.text)
        return data

    def entry(self) -> ChecklistEntry:
        data = self.cleaned_data
        return ChecklistEntry(
            answers={q.key: data.get(f"q_{q.key}") or "" for q in self.day.questions},
            premedication={m.key: data.get(f"pm_{m.key}") or "" for m in self.day.premedications},
            vitals_before={s.key: data.get(f"before_{s.key}") for s in VITAL_SIGNS},
            vitals_after={s.key: data.get(f"after_{s.key}") for s in VITAL_SIGNS},
            observed_minutes=data.get("observed_minutes"),
            reaction_grade=data.get("reaction_grade"),
            reaction_note=data.get("reaction_note") or "",
        )

    @classmethod
    def initial_from(cls, entry: ChecklistEntry, day: InfusionDay) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "observed_minutes": entry.observed_minutes,
            "reaction_grade": entry.reaction_grade,
            "reaction_note": entry.reaction_note,
        }
        initial.update({f"q_{k}": v for k, v in entry.answers.items()})
        initial.update({f"pm_{k}": v for k, v in entry.premedication.items()})
        initial.update({f"before_{k}": v for k, v in entry.vitals_before.items()})
        initial.update({f"after_{k}": v for k, v in entry.vitals_after.items()})
        return initial
