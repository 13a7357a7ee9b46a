"""The neurologist's caseload: scope, filters, sort, paging, audit and query count."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from clinic.audit.models import AccessEvent, Action
from patients.models import Patient
from tests.factories import PatientFactory

CASELOAD = reverse("caseload:page")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 6, 15)):
        yield


def names(response) -> list[str]:
    return [p.family_name for p in response.context["page"]]


@pytest.fixture
def mine(team_a, neurologist):
    def _make(family_name: str, **fields) -> Patient:
        return PatientFactory(
            family_name=family_name, care_team=team_a, neurologist=neurologist, **fields
        )

    return _make


def test_caseload_shows_my_patients_and_my_teams_on_request(
    signed_in, neurologist, team_a, mine, patient_b
):
    mine("Mine")
    PatientFactory(family_name="Colleague", care_team=team_a)
    client = signed_in(neurologist)
    assert names(client.get(CASELOAD)) == ["Mine"]
    assert names(client.get(CASELOAD, {"scope": "teams"})) == ["Colleague", "Mine"]


def test_filter_by_disease_course(signed_in, neurologist, mine):
    mine("Relapsing", current_course="rrms")
    mine("Progressive", current_course="spms")
    assert names(signed_in(neurologist).get(CASELOAD, {"course": "spms"})) == ["Progressive"]


def test_filter_relapse_in_last_90_days(signed_in, neurologist, mine):
    mine("Recent", last_relapse_onset_on=date(2026, 4, 1))
    mine("Old", last_relapse_onset_on=date(2025, 12, 1))
    mine("Never")
    assert names(signed_in(neurologist).get(CASELOAD, {"relapse_recent": "on"})) == ["Recent"]


def test_filter_edss_worsening(signed_in, neurologist, mine):
    mine("Rising", edss_trend="up")
    mine("Confirmed", edss_trend="stable", cdp_confirmed_on=date(2026, 1, 1))
    mine("LongAgo", edss_trend="stable", cdp_confirmed_on=date(2020, 1, 1))
    mine("Steady", edss_trend="stable")
    response = signed_in(neurologist).get(CASELOAD, {"edss_worsening": "on"})
    assert names(response) == ["Confirmed", "Rising"]


def test_filter_neda_lost_last_year(signed_in, neurologist, mine):
    mine("Lost", neda_year=2025, neda_achieved=False)
    mine("Kept", neda_year=2025, neda_achieved=True)
    mine("Unknown", neda_year=2025, neda_achieved=None)
    assert names(signed_in(neurologist).get(CASELOAD, {"neda_lost": "on"})) == ["Lost"]


def test_filter_pira_shows_patients_with_progression_independent_of_relapses(
    signed_in, neurologist, mine
):
    mine("Smouldering", cdp_confirmed_on=date(2025, 1, 1), pira_confirmed_on=date(2025, 1, 1))
    mine("AfterRelapse", cdp_confirmed_on=date(2025, 1, 1))  # RAW only
    mine("Stable")
    response = signed_in(neurologist).get(CASELOAD, {"pira": "on"})
    assert names(response) == ["Smouldering"]
    assert "PIRA Jan 2025" in response.content.decode()


def test_filter_by_status_defaults_to_active(signed_in, neurologist, mine):
    mine("Active")
    mine("Moved", status="transferred")
    client = signed_in(neurologist)
    assert names(client.get(CASELOAD)) == ["Active"]
    assert names(client.get(CASELOAD, {"status": "transferred"})) == ["Moved"]
    assert names(client.get(CASELOAD, {"status": "any"})) == ["Active", "Moved"]


def test_search_by_name_or_mrn(signed_in, neurologist, mine):
    mine("Findme", mrn="FIND0001")
    mine("Other")
    client = signed_in(neurologist)
    assert names(client.get(CASELOAD, {"q": "findme"})) == ["Findme"]
    assert names(client.get(CASELOAD, {"q": "find0001"})) == ["Findme"]


def test_sort_by_latest_edss_and_last_relapse(signed_in, neurologist, mine):
    mine("Low", latest_edss=2, last_relapse_onset_on=date(2026, 1, 1))
    mine("High", latest_edss=6)
    mine("Mid", latest_edss=4, last_relapse_onset_on=date(2026, 5, 1))
    client = signed_in(neurologist)
    assert names(client.get(CASELOAD, {"sort": "edss"})) == ["High", "Mid", "Low"]
    assert names(client.get(CASELOAD, {"sort": "relapse"})) == ["Mid", "Low", "High"]


def test_htmx_filters_return_only_the_table_and_pages_keep_the_filters(
    signed_in, neurologist, mine
):
    for index in range(30):
        mine(f"Rrms{index:02d}", current_course="rrms")
    response = signed_in(neurologist).get(
        CASELOAD, {"course": "rrms"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="caseload-table">')
    assert "course=rrms&amp;page=2" in body or "course=rrms&page=2" in body


def test_each_listed_patient_is_access_logged(signed_in, neurologist, mine, patient_a):
    shown = mine("Shown")
    signed_in(neurologist).get(CASELOAD)
    listed = set(AccessEvent.objects.filter(action=Action.LIST).values_list("patient", flat=True))
    assert listed == {shown.pk, patient_a.pk}


def test_another_teams_patients_never_appear(signed_in, other_neurologist, patient_a):
    response = signed_in(other_neurologist).get(CASELOAD, {"scope": "teams", "status": "any"})
    assert b"Archer" not in response.content
    assert b"AAA00001" not in response.content


@pytest.mark.parametrize("rows", [3, 40])
def test_caseload_query_count_does_not_grow_with_rows(
    rows, signed_in, neurologist, mine, django_assert_num_queries
):
    for index in range(rows):
        mine(f"Patient{index:02d}", current_course="rrms", latest_edss=3, edss_trend="up")
    client = signed_in(neurologist)
    with django_assert_num_queries(5):
        response = client.get(CASELOAD, {"scope": "teams", "edss_worsening": "on"})
    assert response.status_code == 200
