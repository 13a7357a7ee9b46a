"""Plausibility at the door (issue #15, part 3): what a clinical form refuses or asks to confirm,
every free-text field's maximum length, and long words that wrap."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date
from pathlib import Path

import pghistory.models
import pytest
import time_machine
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients.models import Patient, Relapse
from tests.factories import PatientFactory
from tests.patients.test_patient_pages import new_patient_data


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 6, 15)):
        yield


# A second patient with the same name and date of birth -----------------------------------------


@pytest.fixture
def nora(team_a) -> Patient:
    return PatientFactory(
        mrn="OLD00001",
        given_name="Nora",
        family_name="Newman",
        date_of_birth=date(1990, 4, 2),
        care_team=team_a,
    )


def test_a_possible_duplicate_is_warned_about_with_a_link(signed_in, neurologist, team_a, nora):
    data = new_patient_data(team_a, neurologist, given_name="NORA", family_name="newman ")
    response = signed_in(neurologist).post(reverse("patients:create"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Possible duplicate" in body
    assert f'href="{nora.get_absolute_url()}"' in body
    assert 'type="checkbox" name="duplicate_confirmed"' in body
    assert not Patient.objects.filter(mrn="NEW00001").exists()


def test_a_confirmed_different_person_is_saved(signed_in, neurologist, team_a, nora):
    data = {**new_patient_data(team_a, neurologist), "duplicate_confirmed": "on"}
    response = signed_in(neurologist).post(reverse("patients:create"), data)
    assert response.status_code == 302
    assert Patient.objects.filter(given_name="Nora", family_name="Newman").count() == 2


def test_no_warning_for_a_patient_the_user_may_not_see(signed_in, other_neurologist, team_b, nora):
    # The same name in another care team is not shown (nor hinted at): scoping comes first.
    data = new_patient_data(team_b, other_neurologist)
    response = signed_in(other_neurologist).post(reverse("patients:create"), data)
    assert response.status_code == 302


def test_editing_a_record_without_changing_who_it_is_does_not_ask_again(
    signed_in, neurologist, team_a, nora
):
    twin = PatientFactory(
        mrn="TWIN0001",
        given_name="Nora",
        family_name="Newman",
        date_of_birth=date(1990, 4, 2),
        care_team=team_a,
    )
    data = new_patient_data(team_a, neurologist, mrn="TWIN0001", phone="0123")
    response = signed_in(neurologist).post(
        reverse("patients:edit", kwargs={"external_id": twin.external_id}), data
    )
    assert response.status_code == 302


# Male patients and pregnancy --------------------------------------------------------------------


def test_a_male_patient_cannot_be_recorded_as_pregnant(signed_in, neurologist, team_a):
    data = new_patient_data(team_a, neurologist, sex="male", pregnancy_status="pregnant")
    response = signed_in(neurologist).post(reverse("patients:create"), data)
    assert response.status_code == 422
    assert "Not applicable" in str(response.context["form"].errors["pregnancy_status"])


def test_the_database_refuses_a_pregnant_male_patient(team_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(sex="male", pregnancy_status="planning", care_team=team_a)


# Relapses ---------------------------------------------------------------------------------------


def test_a_relapse_with_the_same_onset_is_refused_on_the_form(
    signed_in, neurologist, patient_a, record_relapse
):
    record_relapse(patient_a, date(2025, 9, 1))
    response = signed_in(neurologist).post(
        reverse("patients:relapse_add", kwargs={"external_id": patient_a.external_id}),
        {
            "onset_on": "2025-09-01",
            "symptoms": "Left leg numbness",
            "severity": "moderate",
            "recovery": "unknown",
            "treatment": "none",
            "infection_excluded": "on",
        },
    )
    assert response.status_code == 422
    assert "already recorded" in str(response.context["form"].errors["onset_on"])
    assert Relapse.objects.filter(patient=patient_a).count() == 1


# Every free-text field has a maximum length, shown ----------------------------------------------

# Not free text: sign-in and password fields (checked by the password validators).
NOT_FREE_TEXT = {"username", "password", "old_password", "new_password1", "new_password2"}
# Nor a signed token the page carries (the questionnaire's date-of-birth proof).
NOT_FREE_TEXT |= {"proof"}


def _project_forms() -> list[type[forms.BaseForm]]:
    for package in ("clinic", "patients", "treatments"):
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            # A package's __main__ runs a command when imported (clinic.devstack): not a form.
            skip = (".migrations", ".management")
            if not any(part in module.name for part in skip) and not module.name.endswith(
                ".__main__"
            ):
                importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        found: list[type] = []
        children: list[type] = type.__subclasses__(cls)
        for child in children:
            found += [child, *subclasses(child)]
        return found

    return [
        form
        for form in set(subclasses(forms.BaseForm))
        if form.__module__.split(".")[0] in ("clinic", "patients", "treatments")
    ]


def test_every_free_text_field_of_every_form_has_a_maximum_length():
    unbounded = [
        f"{form.__module__}.{form.__name__}.{name}"
        for form in _project_forms()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.CharField)
        and field.max_length is None
        and name not in NOT_FREE_TEXT
    ]
    assert unbounded == []


def test_every_free_text_model_field_has_a_maximum_length():
    from django.apps import apps
    from django.db import models

    unbounded = [
        f"{model._meta.label}.{field.name}"
        for app in ("patients", "treatments")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField)
        and field.editable
        and field.max_length is None
        and not issubclass(model, pghistory.models.Event)  # history copies
    ]
    # Written by the app, never typed: rules, explanations, alert details.
    assert set(unbounded) <= {
        "patients.EdssAssessment.rule",
        "treatments.MonitoringItem.explanation",
        "treatments.Alert.detail",
        "treatments.Alert.resolution_note",
        "treatments.PmlProfile.explanation",
        "treatments.MonitoringItem.merged_why",
        "treatments.GateOverride.rule",
        "treatments.InboundMessage.raw",  # the laboratory's message as it came
        "treatments.InboundMessage.reason",
        "treatments.ReviewItem.reason",
        "treatments.AlertEmail.body",  # an email as it was sent
        "treatments.DigestLog.body",
    }, unbounded


def test_the_limit_is_on_the_input_and_shown_under_it(signed_in, neurologist, patient_a):
    body = (
        signed_in(neurologist)
        .get(reverse("patients:relapse_add", kwargs={"external_id": patient_a.external_id}))
        .content.decode()
    )
    assert 'maxlength="2000"' in body
    assert "2000 characters max" in body


def test_a_text_beyond_the_limit_is_refused_at_its_field(signed_in, neurologist, patient_a):
    response = signed_in(neurologist).post(
        reverse("patients:mri_add", kwargs={"external_id": patient_a.external_id}),
        {
            "study_on": "2025-01-01",
            "field_strength": "3t",
            "new_or_enlarging_t2": "0",
            "report": "x" * 5001,
        },
    )
    assert response.status_code == 422
    assert "at most 5000 characters" in str(response.context["form"].errors["report"])


def test_long_words_wrap_in_table_cells_and_timelines():
    css = (Path(settings.BASE_DIR) / "clinic/static/css/myelin.css").read_text()
    assert ".table td.text, .table td.correction-cell, .timeline li" in css
    assert "overflow-wrap: anywhere" in css
