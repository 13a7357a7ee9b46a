"""The FHIR export's query budget: one patient's whole record, fifteen years of it, in at most
ten queries per request (the issue's target), the same count as for a patient seen once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts import tokens
from clinic.accounts.models import User
from patients.models import Patient
from tests.factories import PatientFactory
from tests.treatments.fhir.history import Cast, build_history

# The user (by session or token), the patient with every record (one query, see
# treatments.fhir.records) and the access record.
EVERYTHING_BUDGET = 3
ISSUE_TARGET = 10


def _count(client: Client, url: str, **headers: str) -> tuple[int, int]:
    """Queries of one export, and the resources it sent."""
    client.get(url, headers=headers)  # warm: the first request may refresh the session or token
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries.captured_queries), len(response.json()["entry"])


@pytest.fixture
def two_patients(
    patient_a: Patient, neurologist: User, nurse: User, therapist: User
) -> tuple[str, str]:
    """Alice Archer after fifteen years of care, and a colleague on the team seen once."""
    build_history(patient_a, Cast(neurologist, nurse, therapist), years=15)
    newcomer = PatientFactory(mrn="AAA00002", care_team=patient_a.care_team)
    return tuple(  # type: ignore[return-value]
        reverse("fhir:everything", kwargs={"external_id": p.external_id})
        for p in (patient_a, newcomer)
    )


def test_everything_stays_within_budget_whatever_the_history(
    two_patients: tuple[str, str], nurse: User, signed_in: Callable[[User], Client]
) -> None:
    long_url, short_url = two_patients
    client = signed_in(nurse)

    long_count, long_entries = _count(client, long_url)
    short_count, short_entries = _count(client, short_url)

    assert (short_entries, long_entries > 200) == (1, True)
    assert long_count == short_count == EVERYTHING_BUDGET <= ISSUE_TARGET


def test_everything_by_token_stays_within_budget(
    two_patients: tuple[str, str], nurse: User
) -> None:
    _, secret = tokens.create_token(user=nurse, name="Registry", lifetime_days=30)
    long_url, short_url = two_patients
    bearer = {"Authorization": f"Bearer {secret}"}

    long_count, _ = _count(Client(), long_url, **bearer)
    short_count, _ = _count(Client(), short_url, **bearer)

    assert long_count == short_count == EVERYTHING_BUDGET
