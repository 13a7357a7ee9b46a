"""The bulk export of a care team (Group/$export): NDJSON, one valid resource per line, only the
team's patients, one disclosure record per patient, read chunk by chunk."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts import tokens
from clinic.accounts.models import CareTeam, User
from clinic.audit.models import AccessEvent, Action
from tests.factories import PatientFactory
from tests.treatments.fhir.conftest import assert_valid
from treatments.fhir import services


def export_url(team: CareTeam, query: str = "") -> str:
    return reverse("fhir:group_export", kwargs={"team_id": team.pk}) + query


@pytest.fixture
def neuro_token(neurologist: User) -> dict[str, str]:
    _, secret = tokens.create_token(user=neurologist, name="Registry", lifetime_days=30)
    return {"Authorization": f"Bearer {secret}"}


def lines(response: Any) -> list[dict[str, Any]]:
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


def test_a_care_team_is_exported_one_valid_resource_per_line(
    some_history, team_a, patient_b, neuro_token
):
    colleague = PatientFactory(mrn="AAA00002", family_name="Ashby", care_team=team_a)

    response = Client().get(export_url(team_a), headers=neuro_token)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/fhir+ndjson; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="care-team-{team_a.pk}-'
    )
    resources = lines(response)
    for resource in resources:
        assert_valid(resource)
    patients = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    # Team A's patients, in name order (Archer, Ashby); Bob Baker of team B never.
    assert patients == [str(some_history.external_id), str(colleague.external_id)]
    subjects = {
        (r.get("subject") or r.get("patient") or {}).get("reference")
        for r in resources
        if r["resourceType"] != "Patient"
    }
    assert subjects == {f"Patient/{some_history.external_id}"}  # Ashby has no records yet


def test_each_exported_patient_is_recorded_once(
    some_history, team_a, patient_b, neurologist, neuro_token
):
    colleague = PatientFactory(mrn="AAA00002", care_team=team_a)

    lines(Client().get(export_url(team_a), headers=neuro_token))

    events = AccessEvent.objects.filter(action=Action.EXPORT, user=neurologist)
    assert sorted(events.values_list("patient_id", flat=True)) == sorted(
        [some_history.pk, colleague.pk]
    )
    assert all(f"care team {team_a.pk}" in e.detail for e in events)


def test_another_teams_group_is_not_found(team_b, patient_b, neuro_token):
    for url in (export_url(team_b), "/fhir/Group/not-a-team/$export"):
        response = Client().get(url, headers=neuro_token)

        assert response.status_code == 404, url
        assert response.json()["issue"][0]["code"] == "not-found"
    assert not AccessEvent.objects.filter(patient=patient_b).exists()


def test_type_limits_what_is_sent(some_history, team_a, neuro_token):
    response = Client().get(
        export_url(team_a, "?_type=Patient,ServiceRequest"), headers=neuro_token
    )

    kinds = {r["resourceType"] for r in lines(response)}
    assert kinds == {"Patient", "ServiceRequest"}


@pytest.mark.parametrize("types", ["Encounter", "Patient,Bogus", ""])
def test_an_unknown_type_is_a_clear_400(types, team_a, patient_a, neuro_token):
    response = Client().get(export_url(team_a, f"?_type={types}"), headers=neuro_token)

    assert response.status_code == 400
    body = response.json()
    assert_valid(body)
    assert "choose from Patient, Condition" in body["issue"][0]["diagnostics"]
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_export_reads_and_records_one_chunk_at_a_time(
    monkeypatch, team_a, neurologist, neuro_token
):
    monkeypatch.setattr(services, "EXPORT_CHUNK", 2)
    for n in range(5):
        PatientFactory(mrn=f"AAA1000{n}", family_name=f"Able{n}", care_team=team_a)
    response = Client().get(export_url(team_a), headers=neuro_token)
    stream = iter(response.streaming_content)

    with CaptureQueriesContext(connection) as first:
        first_line = json.loads(next(stream))
    sent_so_far = AccessEvent.objects.filter(action=Action.EXPORT).count()
    with CaptureQueriesContext(connection) as rest:
        remaining = list(stream)

    assert first_line["resourceType"] == "Patient"
    # The team's ids, then the first two patients with all their records, and their two access
    # records in one statement: nothing of the other three is read or recorded yet.
    assert len(first.captured_queries) == 3
    assert sent_so_far == 2
    # Two more chunks of one load and one access record each.
    assert len(rest.captured_queries) == 4
    assert len(remaining) == 4
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == 5


def test_a_nurse_signed_in_exports_their_team_too(patient_a, team_a, nurse, signed_in):
    response = signed_in(nurse).get(export_url(team_a))

    assert response.status_code == 200
    assert [r["id"] for r in lines(response)] == [str(patient_a.external_id)]
