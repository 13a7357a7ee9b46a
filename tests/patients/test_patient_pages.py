"""The patient record, the patient page and the clinical record forms, through the web."""

from __future__ import annotations

from datetime import date

import pghistory.models
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.audit.models import AccessEvent, Action, Category
from patients.models import EdssAssessment, Patient, Relapse
from patients.records import timeline
from tests.factories import CareTeamFactory, patient_timeline
from tests.patients.conftest import scores


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 6, 15)):
        yield


def url(name, patient):
    return reverse(f"patients:{name}", kwargs={"external_id": patient.external_id})


def new_patient_data(team, neurologist, **overrides):
    return {
        "mrn": "NEW00001",
        "given_name": "Nora",
        "family_name": "Newman",
        "date_of_birth": "1990-04-02",
        "sex": "female",
        "status": "active",
        "care_team": team.pk,
        "neurologist": neurologist.pk,
        "pregnancy_status": "not_planning",
        "smoking_status": "never",
        **overrides,
    }


# The patient record ---------------------------------------------------------------------------


def test_a_clinician_creates_a_patient_in_their_team_and_it_is_audited(
    signed_in, neurologist, team_a
):
    response = signed_in(neurologist).post(
        reverse("patients:create"), new_patient_data(team_a, neurologist)
    )
    patient = Patient.objects.get(mrn="NEW00001")
    assert response.status_code == 302
    assert response.url == patient.get_absolute_url()
    assert patient.care_team == team_a
    event = AccessEvent.objects.filter(patient=patient).last()
    assert (event.action, event.category) == (Action.CREATE, Category.DEMOGRAPHICS)
    assert pghistory.models.Events.objects.tracks(patient).exists()


def test_a_duplicate_mrn_is_refused_next_to_the_field(signed_in, neurologist, team_a, patient_a):
    response = signed_in(neurologist).post(
        reverse("patients:create"), new_patient_data(team_a, neurologist, mrn="aaa00001")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["mrn"] == ["Another patient already has this MRN."]
    # What was typed is still there.
    assert b'value="Nora"' in response.content


def test_a_future_birth_date_is_refused(signed_in, neurologist, team_a):
    response = signed_in(neurologist).post(
        reverse("patients:create"),
        new_patient_data(team_a, neurologist, date_of_birth="2026-07-01"),
    )
    assert "cannot be in the future" in response.context["form"].errors["date_of_birth"][0]


def test_a_patient_cannot_be_put_in_a_team_the_creator_is_not_in(
    signed_in, neurologist, team_a, team_b
):
    response = signed_in(neurologist).post(
        reverse("patients:create"), new_patient_data(team_b, neurologist)
    )
    assert "care_team" in response.context["form"].errors
    assert not Patient.objects.filter(mrn="NEW00001").exists()


def test_the_named_neurologist_must_belong_to_the_chosen_team(
    signed_in, neurologist, team_a, other_neurologist
):
    second_team = CareTeamFactory(name="Team C")
    neurologist.care_teams.add(second_team)
    response = signed_in(neurologist).post(
        reverse("patients:create"),
        new_patient_data(second_team, neurologist),
    )
    assert response.status_code == 302  # she is on Team C too
    response = signed_in(neurologist).post(
        reverse("patients:create"),
        new_patient_data(team_a, other_neurologist, mrn="NEW00002"),
    )
    assert "neurologist" in response.context["form"].errors


def test_editing_a_patient_is_audited_with_the_changed_fields(signed_in, nurse, patient_a):
    data = new_patient_data(patient_a.care_team, patient_a.neurologist, mrn=patient_a.mrn)
    data.update(given_name="Alicia", nurse=nurse.pk)
    response = signed_in(nurse).post(url("edit", patient_a), data)
    assert response.status_code == 302
    patient_a.refresh_from_db()
    assert patient_a.given_name == "Alicia"
    event = AccessEvent.objects.filter(patient=patient_a, action=Action.UPDATE).get()
    assert "given_name" in event.detail
    assert "Alicia" not in event.detail  # field names only, never values


def test_an_admin_cannot_create_patients(signed_in, admin_user):
    assert signed_in(admin_user).get(reverse("patients:create")).status_code == 403


def test_search_finds_a_patient_by_mrn(signed_in, neurologist, patient_a):
    response = signed_in(neurologist).get(reverse("patients:list"), {"q": "aaa00001"})
    assert b"ARCHER, Alice" in response.content


# Recording the clinical picture through the forms ---------------------------------------------


def test_recording_an_edss_from_fs_scores_shows_the_computed_step(
    signed_in, neurologist, patient_a
):
    client = signed_in(neurologist)
    response = client.post(
        url("edss_add", patient_a),
        {"assessed_on": "2026-06-10", **scores(pyramidal=3, sensory=2)},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("#edss-section")
    assert "EDSS 3.5 recorded" in response.content.decode()
    assert EdssAssessment.objects.get(patient=patient_a).step == 3.5


def test_an_edss_out_of_range_gets_a_message_at_that_score(signed_in, neurologist, patient_a):
    response = signed_in(neurologist).post(
        url("edss_add", patient_a), {"assessed_on": "2026-06-10", **scores(visual=7)}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["visual"] == [
        "Visual must be a whole number from 0 to 6 (got 7)."
    ]
    assert b'id="id_visual_error"' in response.content


def test_an_edss_in_the_future_is_refused(signed_in, neurologist, patient_a):
    response = signed_in(neurologist).post(
        url("edss_add", patient_a), {"assessed_on": "2026-06-16", **scores()}
    )
    assert "cannot be in the future" in response.context["form"].errors["assessed_on"][0]


def test_the_edss_preview_shows_the_step_without_saving(signed_in, neurologist, patient_a):
    response = signed_in(neurologist).post(
        url("edss_preview", patient_a), {"assessed_on": "", **scores(pyramidal=4)}
    )
    assert b"EDSS <strong>4.0</strong>" in response.content
    assert b"preview" in response.content
    assert not EdssAssessment.objects.exists()


def test_a_therapist_cannot_record_an_edss(signed_in, therapist, patient_a):
    assert signed_in(therapist).get(url("edss_add", patient_a)).status_code == 403


def relapse_data(**overrides):
    return {
        "onset_on": "2026-05-01",
        "symptoms": "Numb legs",
        "functional_systems": ["sensory"],
        "severity": "moderate",
        "infection_excluded": "on",
        "recovery": "unknown",
        "treatment": "iv_mp",
        **overrides,
    }


def test_a_relapse_ending_before_onset_is_refused_next_to_the_end_date(signed_in, nurse, patient_a):
    response = signed_in(nurse).post(
        url("relapse_add", patient_a), relapse_data(end_on="2026-04-01")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["end_on"] == ["The end date cannot be before the onset."]


def test_a_relapse_in_the_future_is_refused(signed_in, nurse, patient_a):
    response = signed_in(nurse).post(
        url("relapse_add", patient_a), relapse_data(onset_on="2026-07-01")
    )
    assert "cannot be in the future" in response.context["form"].errors["onset_on"][0]


def test_a_close_second_relapse_is_saved_with_a_visible_warning(signed_in, nurse, patient_a):
    client = signed_in(nurse)
    client.post(url("relapse_add", patient_a), relapse_data())
    response = client.post(
        url("relapse_add", patient_a), relapse_data(onset_on="2026-05-15"), follow=True
    )
    assert Relapse.objects.filter(patient=patient_a).count() == 2
    body = response.content.decode()
    assert "may be part of the same event" in body
    assert "may be the same relapse" in body


def test_a_second_open_course_starting_earlier_gets_a_field_message(
    signed_in, neurologist, patient_a
):
    client = signed_in(neurologist)
    client.post(url("course_add", patient_a), {"course": "rrms", "start_on": "2020-01-01"})
    response = client.post(
        url("course_add", patient_a), {"course": "cis", "start_on": "2019-01-01"}
    )
    assert response.status_code == 422
    assert "a new current course must start after" in response.context["form"].errors["start_on"][0]


def test_enhancing_lesions_without_contrast_get_a_field_message(signed_in, nurse, patient_a):
    response = signed_in(nurse).post(
        url("mri_add", patient_a),
        {
            "study_on": "2026-06-01",
            "field_strength": "3t",
            "new_or_enlarging_t2": "1",
            "gad_enhancing": "2",
        },
    )
    assert response.status_code == 422
    assert "gadolinium" in response.context["form"].errors["gad_enhancing"][0]


def test_negative_lesion_counts_are_refused(signed_in, nurse, patient_a):
    response = signed_in(nurse).post(
        url("mri_add", patient_a),
        {"study_on": "2026-06-01", "field_strength": "3t", "new_or_enlarging_t2": "-1"},
    )
    assert "new_or_enlarging_t2" in response.context["form"].errors


# The patient page -----------------------------------------------------------------------------


def test_the_patient_page_shows_the_clinical_picture(
    signed_in, neurologist, patient_a, record_edss, record_relapse, record_mri
):
    record_edss(patient_a, date(2024, 1, 10), "2.0")
    record_relapse(patient_a, date(2025, 3, 1))
    record_mri(patient_a, date(2025, 4, 1), t2=2, gad=1)
    record_edss(patient_a, date(2025, 6, 1), "3.0")
    record_edss(patient_a, date(2025, 10, 1), "3.0")
    client = signed_in(neurologist)
    response = client.get(patient_a.get_absolute_url())
    body = response.content.decode()
    assert response["Cache-Control"].count("no-store")
    assert "Confirmed 01 Oct 2025" in body
    assert "NEDA-3 not achieved" not in body  # the table says it per year instead
    assert "MRI activity (2025-04-01: 2 new or enlarging T2, 1 gadolinium-enhancing)" in body
    assert body.count("<circle") == 3  # one chart point per EDSS
    assert "Relapse (moderate)" in patient_timeline(client, patient_a)


def _queries_per_request(client, urls):
    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, url
        counts[url] = len(queries.captured_queries)
    return counts


def test_the_patient_page_query_count_is_small_and_does_not_grow_with_history(
    signed_in, neurologist, patient_a, record_edss, record_relapse, record_mri
):
    def add_years(years):
        for year in years:
            record_edss(patient_a, date(2000 + year, 2, 1), "2.0")
            record_relapse(patient_a, date(2000 + year, 6, 1))
            record_mri(patient_a, date(2000 + year, 7, 1), t2=1)

    client = signed_in(neurologist)
    page = patient_a.get_absolute_url()
    sections = [reverse("patients:timeline", args=[patient_a.external_id])] + [
        reverse("patients:panel", args=[patient_a.external_id, slot.key])
        for slot in timeline.panel_slots()
    ]
    add_years([1])
    client.get(page)  # the first request after sign-in refreshes the session clock
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    # User, patient, the access record (one statement), course states, EDSS, relapses, MRI,
    # the DMT periods behind the chart, and the nav bar's alert count.
    assert len(queries.captured_queries) == 9
    short_history = _queries_per_request(client, [page, *sections])

    add_years(range(2, 16))
    assert _queries_per_request(client, [page, *sections]) == short_history


# Nobody outside the care team sees anything ---------------------------------------------------

PAGES = ["detail", "edit", "course_add", "edss_add", "relapse_add", "mri_add"]


@pytest.mark.parametrize("name", PAGES)
def test_another_team_gets_404_and_no_patient_data(name, signed_in, other_neurologist, patient_a):
    client = signed_in(other_neurologist)
    for response in (client.get(url(name, patient_a)), client.post(url(name, patient_a), {})):
        assert response.status_code == 404
        assert b"Archer" not in response.content
        assert b"AAA00001" not in response.content


def test_another_team_gets_404_from_the_edss_preview(signed_in, other_neurologist, patient_a):
    response = signed_in(other_neurologist).post(url("edss_preview", patient_a), scores())
    assert response.status_code == 404
    assert b"Archer" not in response.content


def test_another_team_cannot_find_the_patient_in_search(signed_in, other_neurologist, patient_a):
    response = signed_in(other_neurologist).get(reverse("patients:list"), {"q": "Archer"})
    assert b"ARCHER, Alice" not in response.content
    assert b"AAA00001" not in response.content
