"""The overdue and due-soon sweeps: flag each item once, on the right day, and let go of it
as soon as it is done, waived, cancelled or moved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps

from clinic.accounts.models import User
from patients.models import Patient
from tests.factories import PatientFactory
from tests.sweeps.conftest import NOW, TODAY, MakeItems
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus, ItemStatus, MonitoringItem
from treatments.monitoring import services as monitoring_services
from treatments.monitoring import sweeps

pytestmark = pytest.mark.django_db

YESTERDAY = TODAY - timedelta(days=1)


def test_an_item_whose_window_closed_yesterday_gets_one_warning_for_the_nurse(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)

    result = sweeps.sweep_overdue(at=NOW)

    alert = Alert.objects.get()
    assert result.created == 1
    assert alert.condition_key == f"overdue:item:{item.pk}"
    assert alert.kind == AlertKind.OVERDUE_MONITORING
    assert alert.grade == AlertGrade.WARNING
    assert alert.owner == nurse
    assert "overdue" in alert.title
    assert alert.raised_by_type == "treatments.monitoringitem"


def test_an_item_whose_window_closes_today_is_not_yet_overdue(
    patient_a: Patient, make_items: MakeItems
) -> None:
    make_items(patient_a, closes_on=TODAY)

    assert sweeps.sweep_overdue(at=NOW).created == 0
    assert not Alert.objects.filter(kind=AlertKind.OVERDUE_MONITORING).exists()


def test_the_sweep_records_the_day_it_first_saw_the_item_overdue(
    patient_a: Patient, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=TODAY - timedelta(days=30))

    first = sweeps.sweep_overdue(at=NOW)
    second = sweeps.sweep_overdue(at=NOW + timedelta(days=3))

    item.refresh_from_db()
    assert first.claimed == 1
    assert second.claimed == 0  # the compare-and-swap only stamps an unstamped row
    assert item.overdue_since == TODAY


def test_overdue_sweep_is_idempotent(patient_a: Patient, make_items: MakeItems) -> None:
    make_items(patient_a, 5, closes_on=YESTERDAY)

    first = sweeps.sweep_overdue(at=NOW)
    second = sweeps.sweep_overdue(at=NOW)

    assert first.created == 5
    assert second == sweeps.SweepResult()
    assert Alert.objects.count() == 5


def test_done_waived_and_cancelled_items_are_never_flagged(
    patient_a: Patient, make_items: MakeItems
) -> None:
    make_items(patient_a, closes_on=YESTERDAY, status=ItemStatus.WAIVED)
    make_items(patient_a, closes_on=YESTERDAY, status=ItemStatus.CANCELLED)

    assert sweeps.sweep_overdue(at=NOW).created == 0


def test_booked_items_past_their_window_are_still_overdue(
    patient_a: Patient, make_items: MakeItems
) -> None:
    # A booking that has slipped past the window is exactly what the nurse must chase.
    make_items(patient_a, closes_on=YESTERDAY, status=ItemStatus.BOOKED)

    assert sweeps.sweep_overdue(at=NOW).created == 1


def test_recording_the_result_resolves_the_overdue_alert_at_once(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)

    monitoring_services.record_result(
        patient=patient_a,
        item=item,
        investigation="alt",
        taken_on=YESTERDAY,
        values=[monitoring_services.EnteredValue("alt", Decimal("30"), "U/L", None, Decimal("40"))],
        by=nurse,
    )

    alert = Alert.objects.get()
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolved_automatically
    assert "result recorded" in alert.resolution_note


def test_waiving_the_item_resolves_its_overdue_alert_at_once(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)

    monitoring_services.waive_item(
        item=item, reason="Checked at the GP last week; letter awaited.", by=nurse
    )

    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_the_sweep_resolves_alerts_of_items_cancelled_behind_its_back(
    patient_a: Patient, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    # A bulk path that bypassed the services (an import, an admin action).
    MonitoringItem.objects.filter(pk=item.pk).update(
        status=ItemStatus.CANCELLED, cancelled_reason="No longer due."
    )

    result = sweeps.sweep_overdue(at=NOW)

    item.refresh_from_db()
    assert result.resolved == 1
    assert Alert.objects.get().resolution_note.endswith("no longer due.")
    assert item.overdue_since is None


def test_a_window_moved_later_resolves_the_alert_and_a_new_episode_reopens_it(
    patient_a: Patient, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    # A new dose re-anchors the schedule: the check is now due in a month.
    MonitoringItem.objects.filter(pk=item.pk).update(
        due_on=TODAY + timedelta(days=30),
        window_opens_on=TODAY + timedelta(days=23),
        window_closes_on=TODAY + timedelta(days=37),
    )

    moved = sweeps.sweep_overdue(at=NOW)
    later = sweeps.sweep_overdue(at=NOW + timedelta(days=38))

    alert = Alert.objects.get()
    item.refresh_from_db()
    assert moved.resolved == 1
    assert later.reopened == 1
    assert alert.status == AlertStatus.OPEN
    assert alert.created_at == NOW + timedelta(days=38)
    assert "15 Jul 2026" in alert.title  # the title follows the new dates
    assert item.overdue_since == TODAY + timedelta(days=38)


def test_an_alert_a_person_resolved_stays_resolved_while_the_item_is_still_overdue(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    alerts.resolve(alert=Alert.objects.get(), by=nurse, note="Patient on holiday; booked 1 July.")

    assert sweeps.sweep_overdue(at=NOW + timedelta(hours=1)) == sweeps.SweepResult()
    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_overdue_sweep_query_count_does_not_grow_with_the_number_of_items(
    patient_a: Patient, make_items: MakeItems, django_assert_max_num_queries
) -> None:
    make_items(patient_a, 3, closes_on=YESTERDAY)
    with django_assert_max_num_queries(20) as few:
        sweeps.sweep_overdue(at=NOW)

    others = PatientFactory.create_batch(5, care_team=patient_a.care_team, nurse=patient_a.nurse)
    for patient in others:
        make_items(patient, 60, closes_on=YESTERDAY)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        result = sweeps.sweep_overdue(at=NOW)

    assert result.created == 300
    assert len(many.captured_queries) == len(few.captured_queries)


# --- due soon ---------------------------------------------------------------------------------


def test_an_item_due_within_fourteen_days_gets_an_info_alert(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    (item,) = make_items(
        patient_a, closes_on=TODAY + timedelta(days=20), due_on=TODAY + timedelta(days=14)
    )
    make_items(patient_a, closes_on=TODAY + timedelta(days=25), due_on=TODAY + timedelta(days=15))

    result = sweeps.sweep_due_soon(at=NOW)

    alert = Alert.objects.get()
    assert result.created == 1
    assert alert.condition_key == f"due_soon:item:{item.pk}"
    assert alert.grade == AlertGrade.INFO
    assert alert.owner == nurse


def test_due_soon_sweep_is_idempotent(patient_a: Patient, make_items: MakeItems) -> None:
    make_items(patient_a, 4, closes_on=TODAY + timedelta(days=7), due_on=TODAY + timedelta(days=3))

    assert sweeps.sweep_due_soon(at=NOW).created == 4
    assert sweeps.sweep_due_soon(at=NOW) == sweeps.SweepResult()


def test_when_the_item_becomes_overdue_the_overdue_alert_takes_over(
    patient_a: Patient, make_items: MakeItems
) -> None:
    make_items(patient_a, closes_on=TODAY + timedelta(days=2))
    sweeps.sweep_due_soon(at=NOW)

    three_days_on = NOW + timedelta(days=3)
    sweeps.sweep_overdue(at=three_days_on)
    result = sweeps.sweep_due_soon(at=three_days_on)

    due_soon = Alert.objects.get(kind=AlertKind.DUE_SOON)
    assert result.resolved == 1
    assert due_soon.status == AlertStatus.RESOLVED
    assert "overdue alert takes over" in due_soon.resolution_note
    assert Alert.objects.get(kind=AlertKind.OVERDUE_MONITORING).status == AlertStatus.OPEN


def test_booking_keeps_the_due_soon_alert_but_recording_the_result_resolves_it(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=TODAY + timedelta(days=5))
    sweeps.sweep_due_soon(at=NOW)

    monitoring_services.record_result(
        patient=patient_a,
        item=item,
        investigation="alt",
        taken_on=TODAY,
        values=[monitoring_services.EnteredValue("alt", Decimal("22"), "U/L", None, Decimal("40"))],
        by=nurse,
    )

    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_due_soon_query_count_does_not_grow_with_the_number_of_items(
    patient_a: Patient, make_items: MakeItems, django_assert_max_num_queries
) -> None:
    soon = TODAY + timedelta(days=5)
    make_items(patient_a, 2, closes_on=soon)
    with django_assert_max_num_queries(20) as few:
        sweeps.sweep_due_soon(at=NOW)
    make_items(patient_a, 200, closes_on=soon)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert sweeps.sweep_due_soon(at=NOW).created == 200


def test_the_history_of_what_a_sweep_wrote_names_the_sweep(
    patient_a: Patient, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)

    sweeps.sweep_overdue(at=NOW)

    alert_events = apps.get_model("treatments", "AlertEvent").objects
    item_events = apps.get_model("treatments", "MonitoringItemEvent").objects
    alert_history = alert_events.get(pgh_obj=Alert.objects.get())
    item_history = item_events.filter(pgh_obj=item).order_by("pgh_id").last()
    assert alert_history.pgh_context is not None
    assert alert_history.pgh_context.metadata["job"] == "sweep_overdue"
    assert item_history is not None
    assert item_history.pgh_context is not None
    assert item_history.pgh_context.metadata["job"] == "sweep_overdue"


def test_every_connection_keeps_the_history_triggers_on_their_fast_path() -> None:
    """Without pgtrigger.ignore defined, each row of a big statement takes the triggers' error
    path, whose cost grows with the rows already written (see clinic/settings.py)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        assert cursor.fetchone() == ("{}",)
