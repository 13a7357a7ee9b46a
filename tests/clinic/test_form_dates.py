"""One rule for every date typed into Myelin: `clinic.forms.DateField` (nothing before 1900; on
a form about a patient, nothing before their birth). This walks every form class of the app, so
a new form with a plain Django DateField fails here instead of accepting 0001-01-01."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date

import pytest
from django import forms

import clinic
import patients
import treatments
from clinic.forms import DateField, PatientDatesMixin


def every_form_class() -> list[type[forms.BaseForm]]:
    for package in (clinic, patients, treatments):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            # A package's __main__ runs a command when imported (clinic.devstack): not a form.
            if ".migrations" not in module.name and not module.name.endswith(".__main__"):
                importlib.import_module(module.name)
    found, queue = [], list(forms.BaseForm.__subclasses__())
    while queue:
        cls = queue.pop()
        queue.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {"clinic", "patients", "treatments"}:
            found.append(cls)
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


FORMS = every_form_class()


def test_the_walk_finds_the_forms_with_dates():
    names = {cls.__name__ for cls in FORMS}
    assert {"EdssForm", "RelapseForm", "ResultForm", "SideEffectForm", "SnoozeForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: cls.__qualname__)
def test_every_date_field_of_every_form_is_the_clinic_date_field(form_class):
    plain = [
        name
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.DateField) and not isinstance(field, DateField)
    ]
    assert not plain, f"use clinic.forms.DateField for {plain}"


def test_a_date_before_1900_is_refused_with_a_message():
    field = DateField()
    with pytest.raises(forms.ValidationError, match="from 1900 onwards"):
        field.clean("1899-12-31")
    assert field.clean("1900-01-01") == date(1900, 1, 1)


def test_a_patient_form_moves_the_floor_to_the_date_of_birth_and_never_below_1900():
    class Form(PatientDatesMixin, forms.Form):
        on = DateField()

    class Born:
        def __init__(self, on: date) -> None:
            self.date_of_birth = on

    assert not Form({"on": "1975-01-01"}, patient=Born(date(1980, 3, 1))).is_valid()
    assert Form({"on": "1980-03-01"}, patient=Born(date(1980, 3, 1))).is_valid()
    assert not Form({"on": "1850-01-01"}, patient=Born(date(1800, 1, 1))).is_valid()
