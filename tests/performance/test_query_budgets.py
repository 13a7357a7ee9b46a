"""Query budgets of the hot pages, on a generated clinic at two sizes.

Each page's count is pinned and must be the same for a clinician with ten patients as for one
with a hundred (and their years of monitoring): nothing is loaded per row.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts.models import Role, User
from tests.performance.conftest import busiest, richest_patient

# Per request: the user (the session is read from Redis) and the nav bar's alert count; pages
# that show patients add the access record (one statement, see clinic.audit.services).
CASELOAD_BUDGET = 5
# The page itself; its panels and timeline are fetched by the browser as requests of their own,
# each with its own fixed count (pinned in tests/patients/test_patient_pages.py).
PATIENT_PAGE_BUDGET = 9
WORKLIST_BUDGET = 10  # + the tab counts (open triage calls included) and the rows
# The page's ids and total (scoped, no joins), then those rows with their people.
INBOX_BUDGET = 5
REFERRAL_BOARD_BUDGET = 5
# The team choices (the form's and the scope's) and the dashboard's five aggregate statements.
QUALITY_BUDGET = 9


def _count(client: Client, url: str) -> int:
    client.get(url)  # warm: the first request after sign-in may refresh the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.fixture(params=[10, 60], ids=["10-per-clinician", "60-per-clinician"])
def clinic_size(request: pytest.FixtureRequest, generated_clinic: Callable[..., None]) -> int:
    generated_clinic(patients=request.param * 2, caseload=request.param)
    return request.param


def test_caseload_stays_within_budget_whatever_the_caseload(
    clinic_size: int, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NEUROLOGIST))
    assert _count(client, reverse("caseload:page") + "?scope=teams") == CASELOAD_BUDGET


def test_patient_page_stays_within_budget_whatever_the_history(
    clinic_size: int, sign_in_generated: Callable[[User], Client]
) -> None:
    neurologist = busiest(Role.NEUROLOGIST)
    client = sign_in_generated(neurologist)
    patient = richest_patient(neurologist)
    assert _count(client, patient.get_absolute_url()) == PATIENT_PAGE_BUDGET


def test_worklist_stays_within_budget_whatever_the_items(
    clinic_size: int, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NURSE))
    assert _count(client, reverse("treatments:worklist")) == WORKLIST_BUDGET


def test_alert_inbox_stays_within_budget_whatever_the_alerts(
    clinic_size: int, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NURSE))
    assert _count(client, reverse("alerts:inbox")) == INBOX_BUDGET


def test_referral_board_stays_within_budget_whatever_the_referrals(
    clinic_size: int, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NEUROLOGIST))
    assert _count(client, reverse("referrals:board")) == REFERRAL_BOARD_BUDGET


def test_quality_dashboard_stays_within_budget_whatever_the_clinic(
    clinic_size: int, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NURSE))
    assert _count(client, reverse("quality:dashboard")) == QUALITY_BUDGET
