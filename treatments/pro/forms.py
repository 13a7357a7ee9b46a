"""Forms for patient questionnaires: the clinician's send form, the patient's date of birth, and
the questionnaires themselves (one radio group per item)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms

from treatments import questionnaires
from treatments.questionnaires import Questionnaire, field_name


class SendForm(forms.Form):
    questionnaires = forms.MultipleChoiceField(
        label="Questionnaires",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one questionnaire."},
    )
    send_email = forms.BooleanField(
        label="Also e-mail the link to the patient",
        required=False,
        help_text="The message holds only the link and its expiry date, no name or results.",
    )

    def __init__(self, *args: Any, offered: list[Questionnaire], has_email: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["questionnaires"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(q.key, q.title) for q in offered]
        if not self.is_bound:
            self.initial.setdefault("questionnaires", [q.key for q in offered if q.key != "phq9"])
        if not has_email:
            del self.fields["send_email"]


class DateOfBirthForm(forms.Form):
    """Three boxes (day, month, year): works on every phone without a date picker."""

    day = forms.IntegerField(
        label="Day",
        min_value=1,
        max_value=31,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-day"}),
    )
    month = forms.IntegerField(
        label="Month",
        min_value=1,
        max_value=12,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-month"}),
    )
    year = forms.IntegerField(
        label="Year",
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-year"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                cleaned["date_of_birth"] = date(cleaned["year"], cleaned["month"], cleaned["day"])
            except ValueError:
                raise forms.ValidationError("Enter a real date, for example 27 3 1980.") from None
        return cleaned


@dataclass(frozen=True)
class ItemRow:
    item: questionnaires.Item
    field: forms.BoundField


@dataclass(frozen=True)
class SectionRows:
    stem: str
    rows: list[ItemRow]


@dataclass(frozen=True)
class QuestionnaireBlock:
    questionnaire: Questionnaire
    sections: list[SectionRows]
    closing: forms.BoundField | None


def _closing_name(key: str) -> str:
    return f"{key}-closing"


class AnswersForm(forms.Form):
    """Every item of the chosen questionnaires as a required radio group, plus the proof that
    the date of birth matched (signed, short-lived)."""

    proof = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys
        for key in keys:
            q = questionnaires.QUESTIONNAIRES[key]
            choices = [(str(o.value), o.label) for o in q.options]
            for item in q.items:
                self.fields[field_name(key, item.number)] = forms.ChoiceField(
                    label=f"{item.number}. {item.text}",
                    choices=choices,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": questionnaires.REQUIRED_MESSAGE,
                        "invalid_choice": "Choose one of the answers shown.",
                    },
                )
            if q.closing_question:
                self.fields[_closing_name(key)] = forms.TypedChoiceField(
                    label=q.closing_question,
                    choices=[(str(o.value), o.label) for o in q.closing_options],
                    coerce=int,
                    required=False,
                    empty_value=None,
                    widget=forms.RadioSelect,
                )

    def blocks(self) -> list[QuestionnaireBlock]:
        found = []
        for key in self.keys:
            q = questionnaires.QUESTIONNAIRES[key]
            sections = [
                SectionRows(
                    section.stem,
                    [ItemRow(item, self[field_name(key, item.number)]) for item in section.items],
                )
                for section in q.sections
            ]
            closing = self[_closing_name(key)] if q.closing_question else None
            found.append(QuestionnaireBlock(q, sections, closing))
        return found

    def answers(self) -> dict[str, dict[int, object]]:
        """The answers given so far, by questionnaire and item (blank ones left out)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            key: {
                item.number: data[name]
                for item in questionnaires.QUESTIONNAIRES[key].items
                if data.get(name := field_name(key, item.number)) not in (None, "")
            }
            for key in self.keys
        }

    def closing(self) -> dict[str, int | None]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {key: data.get(_closing_name(key)) for key in self.keys}

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary at the top of the page."""
        return [
            (self[name].auto_id, f"{self.fields[name].label}: {errors[0]}")
            for name, errors in self.errors.items()
            if name in self.fields and name != "proof"
        ]
