"""The read-only FHIR endpoint, as a signed-in clinician's browser and as a program with an API
token: what it answers, to whom, and what it writes to the access trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.accounts import tokens
from clinic.accounts.models import Role, User, UserSession
from clinic.audit.models import AccessEvent, Action
from patients.models import Patient
from tests.treatments.fhir.conftest import assert_valid


def everything_url(patient: Patient) -> str:
    return reverse("fhir:everything", kwargs={"external_id": patient.external_id})


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def nurse_token(nurse: User) -> str:
    _, secret = tokens.create_token(user=nurse, name="Registry upload", lifetime_days=30)
    return secret


def outcome_code(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert_valid(body)
    return body["issue"][0]["code"]


# ---------------------------------------------------------------------------------------------
# Reading a record
# ---------------------------------------------------------------------------------------------


def test_a_signed_in_nurse_downloads_the_whole_record_as_a_valid_bundle(
    some_history, nurse, signed_in
):
    client = signed_in(nurse)

    response = client.get(everything_url(some_history) + "?download=1")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="patient-record-')
    assert "Archer" not in disposition
    assert "AAA00001" not in disposition
    bundle = response.json()
    assert_valid(bundle)
    first = bundle["entry"][0]
    assert first["fullUrl"] == f"http://testserver/fhir/Patient/{some_history.external_id}"
    assert first["resource"]["identifier"][0]["value"] == "AAA00001"
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {
        "Condition",
        "MedicationStatement",
        "Observation",
        "ServiceRequest",
        "AllergyIntolerance",
    }


def test_each_read_is_recorded_as_a_disclosure_naming_what_was_sent(some_history, nurse, signed_in):
    client = signed_in(nurse)
    before = AccessEvent.objects.count()

    client.get(everything_url(some_history))

    [event] = AccessEvent.objects.order_by("-id")[: AccessEvent.objects.count() - before]
    assert event.action == Action.EXPORT
    assert event.patient_id == some_history.pk
    assert event.user_id == nurse.pk
    assert "Patient/$everything" in event.detail
    for kind in ("Condition", "MedicationStatement", "Observation", "ServiceRequest"):
        assert kind in event.detail
    assert "(session)" in event.detail


def test_the_patient_alone_can_be_read(patient_a, nurse, nurse_token):
    response = Client().get(
        reverse("fhir:patient", kwargs={"external_id": patient_a.external_id}),
        headers=bearer(nurse_token),
    )

    assert response.status_code == 200
    patient = response.json()
    assert_valid(patient)
    assert patient["id"] == str(patient_a.external_id)
    event = AccessEvent.objects.latest("id")
    assert (event.action, event.patient_id) == (Action.EXPORT, patient_a.pk)
    assert "read: Patient" in event.detail


def test_the_capability_statement_is_public(db):
    response = Client().get(reverse("fhir:metadata"))

    assert response.status_code == 200
    statement = response.json()
    assert_valid(statement)
    assert statement["implementation"]["url"] == "http://testserver/fhir"


# ---------------------------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------------------------


def test_a_program_with_a_token_reads_the_record_and_gets_no_session(
    settings, some_history, nurse, nurse_token
):
    client = Client()

    response = client.get(everything_url(some_history), headers=bearer(nurse_token))

    assert response.status_code == 200
    assert_valid(response.json())
    assert not response.cookies  # no session cookie, no CSRF cookie: nothing to come back with
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert not UserSession.objects.filter(user=nurse).exists()
    event = AccessEvent.objects.latest("id")
    assert event.user_id == nurse.pk
    assert f"API token {nurse_token[:13]}…" in event.detail


def test_a_token_is_a_credential_of_its_own_where_two_step_sign_in_is_required(
    settings, patient_a, nurse, nurse_token, signed_in
):
    settings.MFA_REQUIRED = True
    url = everything_url(patient_a)

    assert Client().get(url, headers=bearer(nurse_token)).status_code == 200
    # A password alone is not enough in a browser: the second step comes first.
    response = signed_in(nurse).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/")


def revoke(token: str, user: User) -> None:
    tokens.revoke_token(token=tokens.authenticate(token), by=user)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda secret, user: revoke(secret, user), id="revoked"),
        pytest.param(
            lambda secret, user: User.objects.filter(pk=user.pk).update(is_active=False),
            id="owner-deactivated",
        ),
        pytest.param(
            lambda secret, user: User.objects.filter(pk=user.pk).update(must_change_password=True),
            id="owner-must-change-password",
        ),
    ],
)
def test_a_token_that_may_no_longer_be_used_is_refused(spoil, patient_a, nurse, nurse_token):
    spoil(nurse_token, nurse)

    response = Client().get(everything_url(patient_a), headers=bearer(nurse_token))

    assert response.status_code == 401
    assert outcome_code(response) == "login"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert not AccessEvent.objects.filter(patient=patient_a, action=Action.EXPORT).exists()


def test_an_expired_token_is_refused(patient_a, nurse, nurse_token):
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = Client().get(everything_url(patient_a), headers=bearer(nurse_token))

    assert response.status_code == 401
    assert outcome_code(response) == "login"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer myelin_not-a-real-token",
        "Bearer ",
        "Basic bnVyc2Uua2ltOnBhc3N3b3Jk",
        "Bearer " + "myelin_" + "x" * 500,
    ],
)
def test_a_wrong_token_is_refused_like_any_other(header, patient_a, nurse_token):
    response = Client().get(everything_url(patient_a), headers={"Authorization": header})

    assert response.status_code == 401
    assert outcome_code(response) == "login"


def test_without_credentials_a_program_is_told_to_authenticate(patient_a):
    response = Client().get(everything_url(patient_a))

    assert response.status_code == 401
    assert outcome_code(response) == "login"
    assert response["WWW-Authenticate"] == 'Bearer realm="Myelin FHIR"'


# ---------------------------------------------------------------------------------------------
# Scope and role
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "external_id",
    ["team-b", str(uuid.uuid4()), "not-a-uuid"],
    ids=["another-teams-patient", "unknown", "malformed"],
)
def test_a_patient_outside_the_care_teams_is_not_found_like_one_that_does_not_exist(
    external_id, patient_a, patient_b, nurse_token
):
    wanted = str(patient_b.external_id) if external_id == "team-b" else external_id
    for name in ("fhir:patient", "fhir:everything"):
        response = Client().get(
            reverse(name, kwargs={"external_id": wanted}), headers=bearer(nurse_token)
        )

        assert response.status_code == 404, name
        assert outcome_code(response) == "not-found"
        assert "Baker" not in response.content.decode()
    assert not AccessEvent.objects.filter(patient=patient_b).exists()


def test_a_therapist_may_see_the_patient_but_not_export_it(patient_a, therapist, signed_in):
    response = signed_in(therapist).get(everything_url(patient_a))

    assert response.status_code == 403
    assert outcome_code(response) == "forbidden"
    assert (
        "Only neurologists and MS nurses may export" in response.json()["issue"][0]["diagnostics"]
    )


def test_a_token_follows_its_owners_role_when_it_changes(patient_a, nurse, nurse_token):
    User.objects.filter(pk=nurse.pk).update(role=Role.THERAPIST, discipline="physiotherapy")

    response = Client().get(everything_url(patient_a), headers=bearer(nurse_token))

    assert response.status_code == 403
    assert outcome_code(response) == "forbidden"


def test_the_endpoint_only_reads(patient_a, nurse_token):
    response = Client().post(everything_url(patient_a), headers=bearer(nurse_token))

    assert response.status_code == 405
    assert outcome_code(response) == "not-supported"
    assert not AccessEvent.objects.filter(patient=patient_a, action=Action.EXPORT).exists()


# ---------------------------------------------------------------------------------------------
# The patient page
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "offered"), [("nurse", True), ("therapist", False)])
def test_the_patient_page_offers_the_download_to_those_who_may_export(
    role, offered, cast, patient_a, signed_in
):
    page = signed_in(cast[role]).get(patient_a.get_absolute_url()).content.decode()

    assert (f'href="{everything_url(patient_a)}?download=1"' in page) is offered
