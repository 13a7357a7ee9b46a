"""The patient header answers the first questions of a consultation: which DMT and since when,
what monitoring is next, what is overdue (by name) and which alerts are open, at no query cost."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import User
from patients.models import Patient
from tests.factories import patient_panel
from tests.treatments.conftest import StartPlan
from treatments.models import ACTIVE_STATUSES, Alert, MonitoringItem
from treatments.monitoring import services as monitoring_services
from treatments.monitoring import sweeps


def _page(client: Any, patient: Patient) -> str:
    response = client.get(patient.get_absolute_url())
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _header(page: str) -> str:
    start = page.index('id="patient-header"')
    return page[start : page.index("</header>", start)]


def test_the_header_names_the_dmt_the_next_test_and_the_one_overdue_item(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    nurse: User,
    signed_in: Any,
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    overdue = list(MonitoringItem.objects.overdue(on=today).filter(patient=patient_a))
    assert len(overdue) > 1
    # Waive all but the oldest: one overdue item left, which the header must name.
    for item in overdue[1:]:
        monitoring_services.waive_item(item=item, reason="Done at the referring hospital", by=nurse)
    left = overdue[0]
    sweeps.sweep_overdue()
    upcoming = (
        MonitoringItem.objects.open()
        .filter(patient=patient_a, window_closes_on__gte=today)
        .order_by("due_on", "id")
        .first()
    )
    assert upcoming is not None
    alert = Alert.objects.get(patient=patient_a, status__in=ACTIVE_STATUSES)

    header = _header(_page(signed_in(neurologist), patient_a))

    assert "Teriflunomide since 15 Feb 2026" in header
    assert f"{upcoming.investigation_name}, due {upcoming.due_on:%d %b %Y}" in header
    assert "1 overdue monitoring item<" in header
    assert f"{left.investigation_name} (due {left.due_on:%d %b %Y})" in header
    assert "1 open alert<" in header
    assert alert.title in header
    assert "<dt>Course</dt>" in header  # the disease course stays where it was


def test_the_dmt_panel_names_its_overdue_items_too(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    signed_in: Any,
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    first = MonitoringItem.objects.overdue(on=today).filter(patient=patient_a).order_by("due_on")[0]
    body = html.unescape(patient_panel(signed_in(neurologist), patient_a, "treatments-panel"))
    assert f"{first.investigation_name} (due {first.due_on:%d %b %Y})" in body


def test_a_patient_without_treatment_says_so(
    eu_clinic: object, today: date, patient_a: Patient, neurologist: User, signed_in: Any
) -> None:
    header = _header(_page(signed_in(neurologist), patient_a))
    assert "Current DMT" in header
    assert "None" in header
    assert "overdue" not in header


def test_the_header_costs_no_query_however_much_is_open(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    signed_in: Any,
) -> None:
    client = signed_in(neurologist)
    client.get(patient_a.get_absolute_url())  # the first request refreshes the session clock
    with CaptureQueriesContext(connection) as before:
        client.get(patient_a.get_absolute_url())

    start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    sweeps.sweep_overdue()
    assert Alert.objects.filter(patient=patient_a, status__in=ACTIVE_STATUSES).count() > 1
    with CaptureQueriesContext(connection) as after:
        page = client.get(patient_a.get_absolute_url()).content.decode()

    assert "overdue monitoring items" in page
    assert len(after.captured_queries) == len(before.captured_queries)
