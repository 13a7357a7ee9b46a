"""Marking a patient deceased or transferred has consequences: the edit form first shows what
it will stop, and once confirmed the DMT plans are stopped, open monitoring cancelled and open
alerts closed, each with the reason. Nothing is deleted."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from django.urls import reverse

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent, Action, Category
from patients.models import Patient, PatientStatus
from tests.treatments.conftest import StartPlan
from treatments.models import (
    ACTIVE_STATUSES,
    Alert,
    AlertStatus,
    DmtPlan,
    ItemStatus,
    MonitoringItem,
    PlanStatus,
)
from treatments.monitoring import sweeps
from treatments.plans.schedule import extend_monitoring


def _edit_data(client: Any, patient: Patient, **changes: Any) -> dict[str, Any]:
    """The edit form as it stands, with `changes`: what a clinician would submit."""
    form = client.get(reverse("patients:edit", args=[patient.external_id])).context["form"]
    data = {
        name: "" if value is None else value
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(changes)
    return data


def test_marking_deceased_asks_first_and_changes_nothing_until_confirmed(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    signed_in: Any,
) -> None:
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    sweeps.sweep_overdue()
    open_items = MonitoringItem.objects.filter(patient=patient_a).open().count()
    assert open_items
    assert Alert.objects.filter(patient=patient_a).exists()
    client = signed_in(neurologist)
    url = reverse("patients:edit", args=[patient_a.external_id])

    response = client.post(url, _edit_data(client, patient_a, status="deceased"))

    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "as deceased?" in body
    assert "Stop Teriflunomide (since 15 Feb 2026) today." in body
    assert f"Cancel {open_items} open monitoring items" in body
    assert 'name="confirm_status" value="deceased"' in body
    patient_a.refresh_from_db()
    plan.refresh_from_db()
    assert patient_a.status == PatientStatus.ACTIVE
    assert plan.status == PlanStatus.ACTIVE
    assert MonitoringItem.objects.filter(patient=patient_a).open().count() == open_items


def test_a_confirmed_death_stops_the_plan_cancels_monitoring_and_closes_alerts(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    signed_in: Any,
) -> None:
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    sweeps.sweep_overdue()
    items_before = MonitoringItem.objects.filter(patient=patient_a).count()
    alerts_before = Alert.objects.filter(patient=patient_a).count()
    client = signed_in(neurologist)
    url = reverse("patients:edit", args=[patient_a.external_id])
    data = _edit_data(client, patient_a, status="deceased")

    response = client.post(url, {**data, "confirm_status": "deceased", "status_note": "28 May"})

    assert response.status_code == 302
    patient_a.refresh_from_db()
    plan.refresh_from_db()
    assert patient_a.status == PatientStatus.DECEASED
    assert plan.status == PlanStatus.STOPPED
    assert plan.stopped_on == today
    assert plan.stop_note == "patient deceased (28 May)"
    # Nothing deleted: every item and alert is still there, closed with the reason.
    assert MonitoringItem.objects.filter(patient=patient_a).count() == items_before
    assert Alert.objects.filter(patient=patient_a).count() == alerts_before
    assert not MonitoringItem.objects.filter(patient=patient_a).open().exists()
    cancelled = MonitoringItem.objects.filter(patient=patient_a, status=ItemStatus.CANCELLED)
    assert cancelled.exists()
    assert all("deceased" in item.cancelled_reason for item in cancelled)
    assert not Alert.objects.filter(patient=patient_a, status__in=ACTIVE_STATUSES).exists()
    closed = Alert.objects.filter(patient=patient_a, status=AlertStatus.RESOLVED)
    assert closed.count() == alerts_before
    assert all("deceased" in alert.resolution_note for alert in closed)
    # Audited: the record change, the plan's stop, and the monitoring closed.
    events = AccessEvent.objects.filter(patient=patient_a, action=Action.UPDATE)
    assert events.filter(category=Category.DEMOGRAPHICS, detail__contains="status").exists()
    assert events.filter(category=Category.TREATMENT, detail__contains="stopped").exists()
    assert events.filter(category=Category.MONITORING, detail__startswith="Deceased").exists()


def test_a_transfer_recorded_by_the_nurse_ends_everything_and_the_nightly_sync_keeps_it_so(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    nurse: User,
    signed_in: Any,
) -> None:
    # Alemtuzumab's monitoring outlives a stop by 48 months: a transferred patient's must not.
    plan = start_plan(patient_a, "alemtuzumab", date(2026, 1, 10))
    client = signed_in(nurse)
    url = reverse("patients:edit", args=[patient_a.external_id])
    data = _edit_data(client, patient_a, status="transferred")

    confirm = client.post(url, data)
    assert "Stop Alemtuzumab" in html.unescape(confirm.content.decode())
    done = client.post(url, {**data, "confirm_status": "transferred", "status_note": "to Leeds"})

    assert done.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.STOPPED
    assert "to Leeds" in plan.stop_note
    extend_monitoring(on=today)  # what beat does every night
    assert not MonitoringItem.objects.filter(patient=patient_a).open().exists()
    assert DmtPlan.objects.filter(patient=patient_a, status=PlanStatus.STOPPED).count() == 1


def test_a_confirmation_for_another_status_is_not_a_confirmation(
    eu_clinic: object,
    today: date,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    signed_in: Any,
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    client = signed_in(neurologist)
    url = reverse("patients:edit", args=[patient_a.external_id])
    data = _edit_data(client, patient_a, status="deceased")

    response = client.post(url, {**data, "confirm_status": "transferred"})

    assert response.status_code == 200  # asked again, for the status actually chosen
    patient_a.refresh_from_db()
    assert patient_a.status == PatientStatus.ACTIVE
