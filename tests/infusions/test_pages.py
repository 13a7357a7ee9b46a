"""The infusion day's pages: the day view, opening a checklist, and a blank item named at its
field when the infusion is recorded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.treatments.conftest import TODAY
from treatments.infusions import services as infusions
from treatments.models import InfusionState, InfusionVisit

pytestmark = pytest.mark.django_db

COMPLETE = {
    "q_new_neuro": "no",
    "q_infection": "no",
    "q_pregnancy": "no",
    "pm_methylprednisolone": "given",
    "pm_antihistamine": "given",
    "pm_antipyretic": "not_given",
    **{
        f"{w}_{k}": v
        for w in ("before", "after")
        for k, v in (
            ("systolic", "120"),
            ("diastolic", "80"),
            ("pulse", "72"),
            ("temperature", "36.8"),
        )
    },
    "observed_minutes": "60",
    "reaction_grade": "0",
}


def test_a_nurse_opens_a_checklist_from_the_patient(on_ocrelizumab, patient_a, nurse, signed_in):
    client = signed_in(nurse)

    response = client.post(
        reverse("treatments:infusion_new", args=[patient_a.external_id]),
        {"infusion_on": TODAY.isoformat()},
    )

    visit = InfusionVisit.objects.get()
    assert response["Location"] == reverse("treatments:infusion_visit", args=[visit.pk])
    day = client.get(reverse("treatments:infusion_day") + f"?on={TODAY.isoformat()}")
    assert f'id="visit-{visit.pk}"' in day.content.decode()


def test_recording_with_a_blank_item_names_it_at_its_field(on_ocrelizumab, nurse, signed_in):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    data = {**COMPLETE, "after_pulse": "", "record": "1"}

    response = signed_in(nurse).post(reverse("treatments:infusion_visit", args=[visit.pk]), data)

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["after_pulse"] == ["Not recorded: pulse after"]
    visit.refresh_from_db()
    assert visit.state == InfusionState.OPEN


def test_an_implausible_blood_pressure_is_refused_at_its_field(on_ocrelizumab, nurse, signed_in):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)

    response = signed_in(nurse).post(
        reverse("treatments:infusion_visit", args=[visit.pk]),
        {**COMPLETE, "before_systolic": "1200", "save": "1"},
    )

    assert response.status_code == 422
    assert "between 50 and 260 mmHg" in response.context["form"].errors["before_systolic"][0]


def test_a_complete_checklist_is_recorded_and_listed_for_the_day(on_ocrelizumab, nurse, signed_in):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    client = signed_in(nurse)

    response = client.post(
        reverse("treatments:infusion_visit", args=[visit.pk]), {**COMPLETE, "record": "1"}
    )

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.state == InfusionState.RECORDED
    day = client.get(response["Location"]).content.decode()
    assert "Infusion recorded" in day


def test_the_day_view_refuses_a_nonsense_date_with_a_message(nurse, signed_in):
    response = signed_in(nurse).get(reverse("treatments:infusion_day") + "?on=0001-01-01")

    assert response.status_code == 400
    assert "Enter a date from 1900 onwards." in response.content.decode()
