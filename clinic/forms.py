"""Form pieces every app's forms share.

Dates: every date a person types into Myelin goes through `DateField`, one rule for all forms
(tests/clinic/test_form_dates.py walks every form class and fails on a plain
`django.forms.DateField`). No date before 1900 is accepted: a year such as 0001 or 0202 is a
typo, and date arithmetic near `date.min` overflows (a relapse dated 0001-01-01 once broke the
patient page for everyone). A form about one patient (`PatientDatesMixin`) also refuses dates
before the patient was born.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from clinic.dates import EARLIEST_DATE


class DateInput(forms.DateInput):
    """A native date picker: the value travels as ISO (YYYY-MM-DD), whatever the locale."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d", **kwargs)


class DateField(forms.DateField):
    """A date typed into a form: a native date picker, never before 1900 (or a later floor a
    form sets with `not_before`). The browser is told the floor too (`min`)."""

    widget = DateInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.earliest = EARLIEST_DATE
        self.earliest_message = "Enter a date from 1900 onwards."
        self.widget.attrs["min"] = EARLIEST_DATE.isoformat()

    def not_before(self, day: date, message: str) -> None:
        """Raise the floor (never lower it below 1900): e.g. the patient's date of birth."""
        if day > self.earliest:
            self.earliest = day
            self.earliest_message = message
            self.widget.attrs["min"] = day.isoformat()

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and value < self.earliest:
            raise ValidationError(self.earliest_message, code="too_early")


class PatientDatesMixin:
    """For a form about one patient: no date on it may be before the patient was born.

    The view passes the patient (`Form(request.POST, patient=patient)`); without one, the
    1900 floor still holds."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, patient: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        born: date | None = getattr(patient, "date_of_birth", None)
        if born is None:
            return
        message = f"This is before the patient's date of birth ({born:%d %b %Y})."
        for field in self.fields.values():
            if isinstance(field, DateField):
                field.not_before(born, message)
