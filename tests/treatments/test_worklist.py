"""The nurse's monitoring worklist: sections, inline actions, scope and query count."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent, Action
from patients.models import Patient
from tests.factories import PatientFactory
from tests.treatments.conftest import TODAY, StartPlan
from treatments.models import ItemStatus, MonitoringItem
from treatments.monitoring import services as monitoring_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def teriflunomide_patient(us_clinic: object, patient_a: Patient, start_plan: StartPlan) -> Patient:
    """Started 15 Feb 2026: month 4 ALT overdue on 15 Jun? No — month 4 is due 15 Jun (today)."""
    start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    return patient_a


def _due_item(patient: Patient) -> MonitoringItem:
    item = MonitoringItem.objects.due_within(on=TODAY).filter(patient=patient).first()
    assert item is not None
    return item


def test_the_worklist_shows_due_and_overdue_items_of_the_users_teams(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    client = signed_in(nurse)

    due = client.get("/treatments/worklist/")
    overdue = client.get("/treatments/worklist/?tab=overdue")

    assert due.status_code == 200
    assert b"Monitoring worklist" in due.content
    assert b"ARCHER, Alice" in due.content
    assert b"15 Jun 2026" in due.content
    assert b"ARCHER, Alice" in overdue.content
    assert b"Overdue" in overdue.content
    assert b"Why is this due?" in due.content


def test_another_teams_items_never_appear(
    teriflunomide_patient: Patient, other_neurologist: User, signed_in: Any
) -> None:
    client = signed_in(other_neurologist)
    for tab in ("due", "overdue", "booked", "review"):
        response = client.get(f"/treatments/worklist/?tab={tab}")
        assert b"Archer" not in response.content
        assert b"ARCHER" not in response.content


def test_the_worklist_records_one_access_entry_per_patient_listed(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    signed_in(nurse).get("/treatments/worklist/")

    assert (
        AccessEvent.objects.filter(
            user=nurse, patient=teriflunomide_patient, action=Action.LIST
        ).count()
        == 1
    )


def test_booking_from_the_worklist_with_htmx_returns_the_refreshed_row(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    item = _due_item(teriflunomide_patient)

    response = signed_in(nurse).post(
        f"/treatments/items/{item.pk}/book/",
        {"booked_on": "2026-06-18", "next": "/treatments/worklist/?tab=due"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert response.content.decode().strip().startswith(f'<tr id="item-{item.pk}"')
    assert b"Booked 18 Jun" in response.content
    # The refreshed row's "Record result" link still returns to the worklist, not the POST URL.
    assert b"next=/treatments/worklist/%3Ftab%3Ddue" in response.content
    item.refresh_from_db()
    assert item.status == ItemStatus.BOOKED
    assert item.booked_on == date(2026, 6, 18)


def test_booking_without_javascript_redirects_back_to_the_worklist(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    item = _due_item(teriflunomide_patient)

    response = signed_in(nurse).post(
        f"/treatments/items/{item.pk}/book/",
        {"booked_on": "2026-06-18", "next": "/treatments/worklist/?tab=due"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/treatments/worklist/?tab=due"


def test_waiving_needs_a_reason_shown_in_the_row(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    item = _due_item(teriflunomide_patient)
    client = signed_in(nurse)

    refused = client.post(
        f"/treatments/items/{item.pk}/waive/", {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    no_js = client.post(f"/treatments/items/{item.pk}/waive/", {"reason": ""})
    waived = client.post(
        f"/treatments/items/{item.pk}/waive/",
        {"reason": "Bloods done at the GP"},
        HTTP_HX_REQUEST="true",
    )

    assert b"This field is required" in refused.content
    assert no_js.status_code == 422
    assert b"This field is required" in no_js.content
    assert b"Waived" in waived.content
    item.refresh_from_db()
    assert item.status == ItemStatus.WAIVED
    assert item.waived_reason == "Bloods done at the GP"


def test_results_to_review_lists_abnormal_results_first_and_can_be_marked_reviewed(
    patient_a: Patient, nurse: User, neurologist: User, signed_in: Any, today: date
) -> None:
    normal = monitoring_services.record_result(
        patient=patient_a,
        investigation="alt",
        taken_on=TODAY,
        by=nurse,
        values=[
            monitoring_services.EnteredValue(
                "alt", Decimal("20"), "U/L", Decimal("0"), Decimal("40")
            )
        ],
    )
    abnormal = monitoring_services.record_result(
        patient=patient_a,
        investigation="alt",
        taken_on=TODAY - timedelta(days=5),
        by=nurse,
        values=[
            monitoring_services.EnteredValue(
                "alt", Decimal("160"), "U/L", Decimal("0"), Decimal("40")
            )
        ],
    )
    client = signed_in(neurologist)

    page = client.get("/treatments/worklist/?tab=review").content.decode()
    assert page.index(f'id="result-{abnormal.pk}"') < page.index(f'id="result-{normal.pk}"')

    response = client.post(
        f"/treatments/results/{abnormal.pk}/review/", {"note": "Repeat"}, HTTP_HX_REQUEST="true"
    )
    assert b"Reviewed" in response.content
    abnormal.refresh_from_db()
    assert abnormal.reviewed_by == neurologist


def _many_patients(team: Any, count: int, start_plan: StartPlan, nurse: User) -> None:
    """Patients each with items due, overdue and (once booked) booked, and a result to review."""
    for _ in range(count):
        patient = PatientFactory(care_team=team)
        start_plan(patient, "teriflunomide", date(2026, 2, 15))
        monitoring_services.record_result(
            patient=patient,
            investigation="cbc",
            taken_on=TODAY,
            by=nurse,
            values=[
                monitoring_services.EnteredValue(
                    "wbc", Decimal("3.1"), "10^9/L", Decimal("4"), Decimal("11")
                )
            ],
        )


@pytest.mark.parametrize("tab", ["due", "overdue", "booked", "review"])
def test_the_worklist_query_count_does_not_grow_with_rows(
    tab: str,
    us_clinic: object,
    team_a: Any,
    nurse: User,
    start_plan: StartPlan,
    signed_in: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = signed_in(nurse)
    _many_patients(team_a, 2, start_plan, nurse)
    for item in MonitoringItem.objects.due_within(on=TODAY):
        monitoring_services.book_item(item=item, booked_on=TODAY, by=nurse)
    with django_assert_max_num_queries(40) as few:
        client.get(f"/treatments/worklist/?tab={tab}")

    _many_patients(team_a, 12, start_plan, nurse)
    for item in MonitoringItem.objects.due_within(on=TODAY).filter(status="scheduled"):
        monitoring_services.book_item(item=item, booked_on=TODAY, by=nurse)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/treatments/worklist/?tab={tab}")
    assert response.status_code == 200


def test_a_therapist_cannot_open_the_worklist(therapist: User, signed_in: Any) -> None:
    assert signed_in(therapist).get("/treatments/worklist/").status_code == 403


def test_switching_tabs_with_htmx_returns_only_the_table_with_its_tabs(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    response = signed_in(nurse).get("/treatments/worklist/?tab=overdue", HTTP_HX_REQUEST="true")

    body = response.content.decode().strip()
    assert body.startswith('<div id="worklist-table">')
    assert 'href="?tab=overdue" hx-get="?tab=overdue"' in body
    assert "<h1>" not in body


def test_an_inline_action_brings_the_tab_counts_with_the_row(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    """An inline action moves an item between tabs: the counts come back out of band with the
    row, for the tab the nurse is on, so they never go stale."""
    item = _due_item(teriflunomide_patient)
    client = signed_in(nurse)
    before = {key: count for key, _, count in client.get("/treatments/worklist/").context["tabs"]}

    # Booked, it is still due this week, and now also booked.
    booked = client.post(
        f"/treatments/items/{item.pk}/book/",
        {"booked_on": "2026-06-18", "next": "/treatments/worklist/?tab=due"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert (
        '<nav class="tabs" id="worklist-tabs" aria-label="Worklist sections" hx-swap-oob="true">'
        in booked
    )
    assert f'data-tab-count="due">{before["due"]}<' in booked
    assert f'data-tab-count="booked">{before["booked"] + 1}<' in booked
    assert 'aria-current="page">Due this week' in booked

    # Waived, it leaves both.
    waived = client.post(
        f"/treatments/items/{item.pk}/waive/",
        {"reason": "Bloods done at the GP", "next": "/treatments/worklist/?tab=booked"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f'data-tab-count="due">{before["due"] - 1}<' in waived
    assert f'data-tab-count="booked">{before["booked"]}<' in waived
    assert 'aria-current="page">Booked, awaiting result' in waived


def test_a_refused_inline_action_answers_422_with_the_row_and_no_stale_counts(
    teriflunomide_patient: Patient, nurse: User, signed_in: Any
) -> None:
    item = _due_item(teriflunomide_patient)
    response = signed_in(nurse).post(
        f"/treatments/items/{item.pk}/waive/", {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    # htmx swaps a 422 in place (base.html's responseHandling): the message shows in the row.
    assert response.status_code == 422
    assert b"This field is required" in response.content
    assert b"hx-swap-oob" not in response.content
