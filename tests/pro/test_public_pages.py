"""The patient's pages (no sign-in) and the clinician's send page.

A link opens nothing before the date of birth matches; it cannot be altered, reused or used
after it expires; wrong dates of birth lock it; addresses are rate-limited.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clinic.audit.models import AccessEvent, Action
from tests.pro.conftest import answer_url, answers_post, dob_post, start_url
from treatments.models import (
    Alert,
    AlertKind,
    ClinicSettings,
    LinkState,
    OutcomeMeasurement,
    QuestionnaireLink,
)
from treatments.pro import services

WRONG_DOB = {"day": "1", "month": "1", "year": "1901"}


@pytest.fixture
def link(make_link):
    return make_link(("msis29", "mfis"))


def assert_no_patient_data(body: str, patient) -> None:
    for marker in (patient.family_name, patient.given_name, patient.mrn, str(patient.external_id)):
        assert marker not in body


# --- before the date of birth ------------------------------------------------------------------


def test_the_token_travels_in_the_query_string_never_the_path(link):
    # Access logs record the path without the query: the token must not be in the path.
    assert services.public_path(link).startswith("/q/?t=")


def test_the_link_opens_on_a_date_of_birth_form_and_nothing_else(client, link, patient_a):
    response = client.get(start_url(link))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Date of birth" in body
    assert_no_patient_data(body, patient_a)
    assert "Do physically demanding tasks?" not in body  # no question before the check
    assert 'href="/' not in body.replace('href="/static/', "")  # no way into the rest of Myelin
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_right_date_of_birth_shows_the_questionnaires(client, link, patient_a):
    response = client.post(start_url(link), dob_post(patient_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Multiple Sclerosis Impact Scale (MSIS-29)" in body
    assert "Modified Fatigue Impact Scale (MFIS)" in body
    assert body.count('type="radio"') == 29 * 4 + 21 * 5
    assert 'name="proof"' in body
    assert_no_patient_data(body, patient_a)


def test_a_wrong_date_of_birth_is_refused_counted_and_audited(client, link, patient_a):
    response = client.post(start_url(link), WRONG_DOB)
    assert response.status_code == 422
    assert "does not match our records" in response.content.decode()
    link.refresh_from_db()
    assert link.failed_dob_attempts == 1
    event = AccessEvent.objects.filter(object_id=link.pk, action=Action.LOGIN_FAILED).get()
    assert event.user_id is None
    assert event.patient_id == patient_a.pk
    assert "1 of 5" in event.detail


def test_an_impossible_date_is_a_message_next_to_the_form_not_a_failure(client, link):
    response = client.post(start_url(link), {"day": "31", "month": "2", "year": "1980"})
    assert response.status_code == 422
    assert "Enter a real date" in response.content.decode()
    link.refresh_from_db()
    assert link.failed_dob_attempts == 0


def test_five_wrong_dates_of_birth_lock_the_link(client, link, patient_a, settings):
    settings.PRO_DOB_ATTEMPTS = 5
    statuses = [client.post(start_url(link), WRONG_DOB).status_code for _ in range(5)]
    assert statuses == [422, 422, 422, 422, 410]
    link.refresh_from_db()
    assert link.state == LinkState.LOCKED
    # Even the right date now opens nothing.
    response = client.post(start_url(link), dob_post(patient_a))
    assert response.status_code == 410
    assert "locked" in response.content.decode()
    assert "Do physically demanding tasks?" not in response.content.decode()


def test_many_wrong_dates_from_one_address_over_several_links_are_turned_away(
    client, make_link, patient_a, monkeypatch
):
    monkeypatch.setattr(services, "ADDRESS_DOB_FAILURES", 3)
    links = [make_link(("mfis",)) for _ in range(2)]
    for link in (links[0], links[0], links[1]):
        assert client.post(start_url(link), WRONG_DOB).status_code == 422
    response = client.post(start_url(links[1]), dob_post(patient_a))
    assert response.status_code == 429
    assert "Do physically demanding tasks?" not in response.content.decode()


def test_requests_from_one_address_are_rate_limited(client, link, settings):
    settings.PRO_RATE_LIMIT = 3
    statuses = [client.get(start_url(link)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(start_url(link)).has_header("Retry-After")


# --- the token cannot be altered ------------------------------------------------------------


def test_an_altered_signature_opens_nothing(client, link, patient_a):
    token = services.token_for(link)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(start_url(link, forged))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert client.post(start_url(link, forged), dob_post(patient_a)).status_code == 404


def test_a_token_pointed_at_another_link_opens_nothing(client, make_link, patient_b, link):
    other = make_link(("mfis",), patient=patient_b, by=patient_b.neurologist)
    _value, timestamp, signature = services.token_for(link).split(":")
    swapped = f"{other.external_id.hex}:{timestamp}:{signature}"
    assert client.get(start_url(link, swapped)).status_code == 404
    assert client.post(start_url(link, swapped), dob_post(patient_b)).status_code == 404


@pytest.mark.parametrize("token", ["x", "abc:def", "::", "0" * 32, "not a token"])
def test_garbage_tokens_open_nothing(client, token):
    assert client.get(reverse("pro:start"), {"t": token}).status_code == 404
    assert client.get(reverse("pro:start")).status_code == 404


def test_the_questionnaire_cannot_be_posted_without_the_date_of_birth_proof(client, link):
    data = answers_post(link)
    del data["proof"]
    response = client.post(answer_url(link), data)
    assert response.status_code == 403
    assert "enter your date of birth again" in response.content.decode()
    assert not OutcomeMeasurement.objects.filter(questionnaire_link=link).exists()


def test_a_proof_for_one_link_does_not_open_another(client, make_link, link):
    other = make_link(("msis29", "mfis"))
    data = answers_post(link) | {"proof": services.proof_for(other)}
    assert client.post(answer_url(link), data).status_code == 403


def test_a_proof_older_than_three_hours_does_not_hold(client, link):
    data = answers_post(link)
    with time_machine.travel(timedelta(hours=3, minutes=1)):
        assert client.post(answer_url(link), data).status_code == 403


# --- answering ------------------------------------------------------------------------------


def test_a_patient_completes_the_questionnaires(client, link, patient_a):
    client.post(start_url(link), dob_post(patient_a))
    response = client.post(answer_url(link), answers_post(link, 2))
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert "Your safety matters" not in response.content.decode()
    assert set(
        OutcomeMeasurement.objects.filter(questionnaire_link=link).values_list("measure", flat=True)
    ) == {"msis29", "mfis"}


def test_a_missing_answer_is_shown_next_to_its_question(client, link):
    data = answers_post(link)
    del data["mfis-12"]
    response = client.post(answer_url(link), data)
    body = response.content.decode()
    assert response.status_code == 422
    assert "Some questions still need an answer" in body
    assert 'href="#id_mfis-12"' in body  # the summary links to the question
    assert re.search(r'id="id_mfis-12_error">Please choose an answer\.', body)
    # The answers already given are kept.
    assert 'value="2" id="id_mfis-11_2" required checked' in body
    assert not OutcomeMeasurement.objects.filter(questionnaire_link=link).exists()


def test_an_answer_outside_the_choices_is_refused(client, link):
    data = answers_post(link) | {"msis29-3": "5"}
    response = client.post(answer_url(link), data)
    assert response.status_code == 422
    assert "Choose one of the answers shown." in response.content.decode()


def test_the_link_cannot_be_reused(client, link, patient_a):
    assert client.post(answer_url(link), answers_post(link, 2)).status_code == 200
    again = client.post(answer_url(link), answers_post(link, 4))
    assert again.status_code == 410
    assert "already been answered" in again.content.decode()
    assert client.get(start_url(link)).status_code == 410
    assert client.post(start_url(link), dob_post(patient_a)).status_code == 410
    assert OutcomeMeasurement.objects.filter(questionnaire_link=link).count() == 2


def test_the_link_cannot_be_used_after_it_expires(client, link, patient_a):
    with time_machine.travel(link.expires_at + timedelta(minutes=1)):
        response = client.get(start_url(link))
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert client.post(start_url(link), dob_post(patient_a)).status_code == 410
        assert client.post(answer_url(link), answers_post(link)).status_code == 410
    assert not OutcomeMeasurement.objects.filter(questionnaire_link=link).exists()


def test_a_token_whose_signature_aged_out_reads_as_expired(client, link, settings):
    token = services.token_for(link)
    settings.PRO_LINK_DAYS = 1  # the clinic shortened link lifetimes since this one was sent
    with time_machine.travel(timedelta(days=2)):
        assert link.expires_at > QuestionnaireLink.objects.get(pk=link.pk).created_at
        assert client.get(start_url(link, token)).status_code == 410


def test_a_withdrawn_link_opens_nothing(client, link, nurse):
    services.revoke_link(link=link, by=nurse)
    response = client.get(start_url(link))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_the_public_pages_need_a_csrf_token(link, patient_a):
    client = Client(enforce_csrf_checks=True)
    assert client.post(start_url(link), dob_post(patient_a)).status_code == 403
    assert client.post(answer_url(link), answers_post(link)).status_code == 403


def test_a_self_harm_answer_shows_where_to_get_help_today(client, make_link):
    clinic = ClinicSettings.load()
    clinic.phq9_enabled = True
    clinic.save()
    link = make_link(("phq9",))
    data = answers_post(link, 0) | {"phq9-9": "1", "phq9-closing": "1"}
    response = client.post(answer_url(link), data)
    assert response.status_code == 200
    assert "Your safety matters" in response.content.decode()
    assert Alert.objects.filter(kind=AlertKind.PHQ9_SELF_HARM).count() == 1
    link.refresh_from_db()
    assert link.answers["phq9"]["closing"] == 1


# --- the clinician's side ---------------------------------------------------------------------


def send_url(patient) -> str:
    return reverse("pro:send", kwargs={"external_id": patient.external_id})


def test_a_nurse_sends_a_link_and_sees_it_as_a_qr_code_and_text(signed_in, nurse, patient_a):
    client = signed_in(nurse)
    assert client.get(send_url(patient_a)).status_code == 200
    response = client.post(send_url(patient_a), {"questionnaires": ["msis29", "mfis"]})
    link = QuestionnaireLink.objects.get(patient=patient_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("pro:link", kwargs={"link_id": link.pk})
    body = client.get(response["Location"]).content.decode()
    assert "<svg" in body
    assert "<path" in body
    assert "Withdraw this link" in body
    # The link shown opens the patient's date-of-birth page for anyone, signed in or not.
    [url] = re.findall(r'value="(http://testserver/q/\?t=[^"]+)"', body)
    assert "Date of birth" in Client().get(html.unescape(url)).content.decode()


def test_sending_without_a_questionnaire_is_a_message_next_to_the_field(
    signed_in, nurse, patient_a
):
    response = signed_in(nurse).post(send_url(patient_a), {})
    assert response.status_code == 422
    assert "Choose at least one questionnaire." in response.content.decode()
    assert not QuestionnaireLink.objects.exists()


def test_the_clinician_withdraws_a_link(signed_in, nurse, link):
    client = signed_in(nurse)
    response = client.post(reverse("pro:revoke", kwargs={"link_id": link.pk}))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.state == LinkState.REVOKED
    assert "no longer opens" in client.get(response["Location"]).content.decode()


def test_another_team_cannot_see_or_withdraw_the_link(signed_in, other_neurologist, link):
    client = signed_in(other_neurologist)
    assert client.get(reverse("pro:link", kwargs={"link_id": link.pk})).status_code == 404
    assert client.post(reverse("pro:revoke", kwargs={"link_id": link.pk})).status_code == 404
    assert client.get(send_url(link.patient)).status_code == 404


def test_the_admin_cannot_send_questionnaires(signed_in, admin_user, patient_a):
    assert signed_in(admin_user).get(send_url(patient_a)).status_code == 403


def test_the_rehab_page_lists_patient_reported_scores(signed_in, neurologist, link):
    services.submit_answers(
        link=link,
        answers={
            "msis29": {n: 2 for n in range(1, 30)},
            "mfis": {n: 1 for n in range(1, 22)},
        },
    )
    body = (
        signed_in(neurologist)
        .get(reverse("rehab:patient", kwargs={"external_id": link.patient.external_id}))
        .content.decode()
    )
    assert 'data-testid="patient-reported"' in body
    assert "Patient-reported" in body
    assert "33.3" in body
    assert "21 points" in body
