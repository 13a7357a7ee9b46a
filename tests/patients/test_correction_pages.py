"""The correction pages and how the patient page and timeline show a corrected record."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from patients.models import EdssAssessment
from patients.records import services
from tests.patients.conftest import STEP_SCORES


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 6, 15)):
        yield


def correction_url(step, patient, kind, record):
    return reverse(
        f"corrections:{step}",
        kwargs={"external_id": patient.external_id, "kind": kind, "record_id": record.pk},
    )


def edss_form_data(on="2025-01-01", step="2.0", **extra):
    grades = {name: str(value) for name, value in STEP_SCORES[step].items()}
    return {"assessed_on": on, **grades, **extra}


def test_a_neurologist_marks_an_edss_entered_in_error_through_the_page(
    signed_in, neurologist, patient_a, record_edss
):
    wrong = record_edss(patient_a, date(2025, 1, 1), "6.0")
    client = signed_in(neurologist)
    page = client.get(correction_url("error", patient_a, "edss", wrong))
    assert page.status_code == 200
    assert "EDSS 6.0 on 01 Jan 2025" in page.content.decode()
    response = client.post(
        correction_url("error", patient_a, "edss", wrong),
        {"correction-reason": "Recorded on the wrong patient"},
    )
    assert response.status_code == 302
    assert response.url.endswith("#edss-section")
    wrong.refresh_from_db()
    assert wrong.is_entered_in_error


def test_the_patient_page_shows_the_corrected_record_struck_through_with_who_when_why(
    signed_in, neurologist, patient_a, record_edss
):
    wrong = record_edss(patient_a, date(2025, 1, 1), "6.0")
    client = signed_in(neurologist)
    client.post(
        correction_url("error", patient_a, "edss", wrong),
        {"correction-reason": "Recorded on the wrong patient"},
    )
    body = client.get(patient_a.get_absolute_url()).content.decode()
    assert 'class="corrected"' in body
    assert "Entered in error" in body
    assert "Recorded on the wrong patient" in body
    assert "Ada Reyes" in body
    # A corrected record offers no more corrections.
    assert correction_url("error", patient_a, "edss", wrong) not in body


def test_the_timeline_shows_the_correction(signed_in, neurologist, patient_a, record_edss):
    wrong = record_edss(patient_a, date(2025, 1, 1), "6.0")
    client = signed_in(neurologist)
    client.post(
        correction_url("error", patient_a, "edss", wrong), {"correction-reason": "Wrong patient"}
    )
    body = client.get(
        reverse("patients:timeline", kwargs={"external_id": patient_a.external_id})
    ).content.decode()
    assert "timeline-edss corrected" in body
    assert "Entered in error" in body
    assert "Wrong patient" in body


def test_amending_through_the_page_shows_the_form_filled_in_and_saves_a_new_row(
    signed_in, neurologist, patient_a, record_edss
):
    original = record_edss(patient_a, date(2025, 1, 1), "2.0")
    client = signed_in(neurologist)
    page = client.get(correction_url("amend", patient_a, "edss", original)).content.decode()
    assert 'value="2025-01-01"' in page
    assert "500 characters max" in page  # the reason's limit is shown
    response = client.post(
        correction_url("amend", patient_a, "edss", original),
        {**edss_form_data(step="3.0"), "correction-reason": "Pyramidal grade mistyped"},
    )
    assert response.status_code == 302
    amended = EdssAssessment.objects.standing().get(patient=patient_a)
    assert amended.amends_id == original.pk
    body = client.get(patient_a.get_absolute_url()).content.decode()
    assert "Pyramidal grade mistyped" in body  # on the amended row and the original


def test_an_invalid_amendment_is_refused_with_every_field_named(
    signed_in, neurologist, patient_a, record_edss
):
    original = record_edss(patient_a, date(2025, 1, 1), "2.0")
    response = signed_in(neurologist).post(
        correction_url("amend", patient_a, "edss", original),
        {**edss_form_data(visual="9", pyramidal="8"), "correction-reason": ""},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"visual", "pyramidal"} <= set(errors)
    assert "Give the reason" in str(response.context["reason_form"].errors)
    original.refresh_from_db()
    assert original.is_standing


def test_an_amendment_refused_by_the_service_names_the_field(
    signed_in, neurologist, patient_a, record_edss
):
    record_edss(patient_a, date(2025, 1, 1), "2.0")
    other = record_edss(patient_a, date(2025, 2, 1), "2.0")
    response = signed_in(neurologist).post(
        correction_url("amend", patient_a, "edss", other),
        {**edss_form_data(on="2025-01-01"), "correction-reason": "Wrong date"},
    )
    assert response.status_code == 422
    assert "already recorded" in str(response.context["form"].errors["assessed_on"])


def test_an_already_corrected_record_is_a_conflict_with_a_message(
    signed_in, neurologist, patient_a, record_edss
):
    wrong = record_edss(patient_a, date(2025, 1, 1), "2.0")
    client = signed_in(neurologist)
    client.post(correction_url("error", patient_a, "edss", wrong), {"correction-reason": "x"})
    response = client.get(correction_url("amend", patient_a, "edss", wrong))
    assert response.status_code == 409
    assert "already entered in error" in response.content.decode()


def test_a_nurse_cannot_correct_the_neurologists_record_but_sees_no_button(
    signed_in, nurse, patient_a, record_edss
):
    theirs = record_edss(patient_a, date(2025, 1, 1), "2.0")
    client = signed_in(nurse)
    assert client.get(correction_url("error", patient_a, "edss", theirs)).status_code == 403
    response = client.post(
        correction_url("error", patient_a, "edss", theirs), {"correction-reason": "x"}
    )
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.is_standing
    body = client.get(patient_a.get_absolute_url()).content.decode()
    assert correction_url("error", patient_a, "edss", theirs) not in body


def test_the_author_sees_the_buttons_on_their_own_record(signed_in, nurse, patient_a):
    mine = services.record_edss(
        patient=patient_a, assessed_on=date(2025, 1, 1), scores=STEP_SCORES["2.0"], by=nurse
    )
    body = signed_in(nurse).get(patient_a.get_absolute_url()).content.decode()
    assert correction_url("error", patient_a, "edss", mine) in body
    assert correction_url("amend", patient_a, "edss", mine) in body


def test_another_teams_record_is_a_404(signed_in, other_neurologist, patient_a, record_edss):
    record = record_edss(patient_a, date(2025, 1, 1), "2.0")
    client = signed_in(other_neurologist)
    assert client.get(correction_url("error", patient_a, "edss", record)).status_code == 404


def test_a_record_of_another_patient_is_not_found_through_this_patient(
    signed_in, neurologist, patient_a, record_edss
):
    from tests.factories import PatientFactory

    sibling = PatientFactory(mrn="AAA00002", care_team=patient_a.care_team)
    record = record_edss(sibling, date(2025, 1, 1), "2.0")
    client = signed_in(neurologist)
    assert client.get(correction_url("error", patient_a, "edss", record)).status_code == 404


def test_an_unknown_record_type_is_a_404(signed_in, neurologist, patient_a, record_edss):
    record = record_edss(patient_a, date(2025, 1, 1), "2.0")
    response = signed_in(neurologist).get(correction_url("error", patient_a, "kidney", record))
    assert response.status_code == 404


def test_with_htmx_a_refusal_is_swapped_into_the_form(
    signed_in, neurologist, patient_a, record_edss
):
    record = record_edss(patient_a, date(2025, 1, 1), "2.0")
    response = signed_in(neurologist).post(
        correction_url("error", patient_a, "edss", record),
        {"correction-reason": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert "Give the reason" in response.content.decode()
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="correction-form">')
    ok = signed_in(neurologist).post(
        correction_url("error", patient_a, "edss", record),
        {"correction-reason": "Wrong patient"},
        headers={"HX-Request": "true"},
    )
    assert ok.headers["HX-Redirect"].endswith("#edss-section")


def test_a_correction_reason_is_escaped_wherever_it_is_shown(
    signed_in, neurologist, patient_a, record_edss
):
    wrong = record_edss(patient_a, date(2025, 1, 1), "2.0")
    client = signed_in(neurologist)
    payload = '<script>alert("xss")</script>'
    client.post(correction_url("error", patient_a, "edss", wrong), {"correction-reason": payload})
    for page in (
        patient_a.get_absolute_url(),
        reverse("patients:timeline", kwargs={"external_id": patient_a.external_id}),
        correction_url("amend", patient_a, "edss", wrong),
    ):
        body = client.get(page).content.decode()
        assert payload not in body, page
        assert "&lt;script&gt;" in body, page


@pytest.mark.parametrize(
    ("kind", "data", "changed"),
    [
        (
            "course",
            {"course": "spms", "start_on": "2020-01-01", "note": "Secondary progressive"},
            lambda r: r.course == "spms",
        ),
        (
            "relapse",
            {
                "onset_on": "2025-08-25",
                "symptoms": "Left leg numbness",
                "functional_systems": ["sensory", "pyramidal"],
                "severity": "severe",
                "objectively_confirmed": "on",
                "infection_excluded": "on",
                "recovery": "partial",
                "treatment": "iv_mp",
            },
            lambda r: (r.onset_on, r.severity) == (date(2025, 8, 25), "severe"),
        ),
        (
            "mri",
            {
                "study_on": "2025-06-01",
                "field_strength": "3t",
                "new_or_enlarging_t2": "1",
                "report": "One new lesion",
            },
            lambda r: r.new_or_enlarging_t2 == 1,
        ),
    ],
)
def test_each_clinical_record_is_amended_through_its_page(
    kind, data, changed, signed_in, neurologist, patient_a, record_relapse, record_mri
):
    records = {
        "course": lambda: services.add_course_state(
            patient=patient_a, course="rrms", start_on=date(2020, 1, 1), by=neurologist
        ),
        "relapse": lambda: record_relapse(patient_a, date(2025, 9, 1)),
        "mri": lambda: record_mri(patient_a, date(2025, 6, 1), t2=0),
    }
    record = records[kind]()
    client = signed_in(neurologist)
    page = client.get(correction_url("amend", patient_a, kind, record))
    assert page.status_code == 200
    response = client.post(
        correction_url("amend", patient_a, kind, record),
        {**data, "correction-reason": "Transcription error"},
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    replacement = type(record).objects.get(amends=record)
    assert changed(replacement)
    record.refresh_from_db()
    assert record.is_amended


def test_the_relapse_amend_page_is_filled_in_with_the_record(
    signed_in, neurologist, patient_a, record_relapse
):
    relapse = record_relapse(patient_a, date(2025, 9, 1))
    form = signed_in(neurologist).get(correction_url("amend", patient_a, "relapse", relapse))
    bound = form.context["form"]
    assert bound["onset_on"].value() == date(2025, 9, 1)
    assert bound["functional_systems"].value() == ["sensory"]
