"""What happens when things go wrong: repeated, concurrent and killed runs, and Redis down.

Each sweep recomputes from the database, so whatever happened to earlier runs, the next
complete run leaves exactly one alert per condition."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction

from clinic.accounts.models import User
from clinic.celery import app
from patients.models import EmergencyAccess, Patient
from tests.sweeps.conftest import NOW, TODAY, MakeItems, build_items
from treatments.alerts import services as alerts
from treatments.alerts.services import AlertSpec
from treatments.models import Alert, AlertGrade, AlertKind, MonitoringItem
from treatments.monitoring import overdue, sweeps
from treatments.monitoring import tasks as sweep_tasks

YESTERDAY = TODAY.replace(day=TODAY.day - 1)


def one_alert_per_overdue_item() -> bool:
    keys = set(Alert.objects.values_list("condition_key", flat=True))
    items = set(MonitoringItem.objects.values_list("pk", flat=True))
    return keys == {f"overdue:item:{pk}" for pk in items}


@pytest.mark.django_db
def test_running_the_sweep_twice_creates_nothing_the_second_time(
    patient_a: Patient, make_items: MakeItems
) -> None:
    make_items(patient_a, 30, closes_on=YESTERDAY)

    sweeps.sweep_overdue(at=NOW, chunk_size=7)
    again = sweeps.sweep_overdue(at=NOW, chunk_size=7)

    assert again == sweeps.SweepResult()
    assert one_alert_per_overdue_item()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_create_no_duplicate_and_miss_nothing(patient_a: Patient) -> None:
    build_items(patient_a, 400, closes_on=YESTERDAY)
    barrier = threading.Barrier(4)
    results: list[sweeps.SweepResult] = []

    def sweeper() -> None:
        barrier.wait()
        try:
            results.append(sweeps.sweep_overdue(at=NOW, chunk_size=25))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4
    assert sum(r.created for r in results) == 400
    assert sum(r.claimed for r in results) == 400  # each row stamped by exactly one winner
    assert one_alert_per_overdue_item()
    assert not MonitoringItem.objects.filter(overdue_since__isnull=True).exists()


class WorkerKilled(RuntimeError):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_halfway_loses_nothing_once_the_next_run_completes(
    patient_a: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_items(patient_a, 35, closes_on=YESTERDAY)
    real_counts = overdue._counts
    calls = 0

    def dies_in_the_second_chunk(*args: Any, **kwargs: Any) -> tuple[int, int, int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            real_counts(*args, **kwargs)  # the chunk's work done, then the worker dies
            raise WorkerKilled
        return real_counts(*args, **kwargs)

    monkeypatch.setattr(overdue, "_counts", dies_in_the_second_chunk)
    with pytest.raises(WorkerKilled):
        sweeps.sweep_overdue(at=NOW, chunk_size=10)
    # The first chunk committed; the dying chunk rolled back whole (no stamp without alert).
    assert Alert.objects.count() == 10
    assert MonitoringItem.objects.filter(overdue_since__isnull=False).count() == 10

    monkeypatch.setattr(overdue, "_counts", real_counts)
    redelivered = sweeps.sweep_overdue(at=NOW, chunk_size=10)

    assert redelivered.created == 25
    assert one_alert_per_overdue_item()


# --- Redis down ---------------------------------------------------------------------------


@pytest.fixture
def redis_down() -> Iterator[None]:
    """Celery publishes for real, to a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_connection_retry)
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    app.conf.task_always_eager = False
    app.__dict__.pop("pool", None)
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_connection_retry = saved
    app._pool = None
    app.amqp._producer_pool = None


def critical_spec(patient: Patient) -> AlertSpec:
    return AlertSpec(
        patient_id=patient.pk,
        kind=AlertKind.ABNORMAL_RESULT,
        grade=AlertGrade.CRITICAL,
        condition_key="abnormal:result:1:rule:alc_lt_0_2",
        title="Lymphocytes 0.15 ×10⁹/L on fingolimod",
    )


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_critical_alert_is_still_recorded_and_the_next_run_emails_it(
    patient_a: Patient, redis_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="myelin.celery"), transaction.atomic():
        created = alerts.raise_alerts([critical_spec(patient_a)])

    assert created == 1
    assert Alert.objects.get().notified_at is None  # nobody told yet: nothing lost
    assert "message broker is unreachable" in caplog.text
    # The minute-by-minute beat job finds the untold alert once the broker is back.
    assert alerts.send_critical_alert_emails() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_pages_that_queue_work_still_save_and_render(
    patient_b: Patient, neurologist: User, signed_in: Any, redis_down: None
) -> None:
    neurologist.can_break_glass = True
    neurologist.save(update_fields=["can_break_glass"])
    client = signed_in(neurologist)

    response = client.post(
        "/accounts/emergency/",
        {"mrn": patient_b.mrn, "reason": "Seen in A&E with a new relapse, team B unreachable."},
    )
    page = client.get(response["Location"])

    assert response.status_code == 302  # the admins' email could not be queued; no error page
    assert EmergencyAccess.objects.filter(user=neurologist, patient=patient_b).exists()
    assert page.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_next_sweep_catches_up_on_everything_missed(
    patient_a: Patient, redis_down: None
) -> None:
    # Beat's messages were lost while Redis was down; the first run afterwards flags the lot.
    build_items(patient_a, 12, closes_on=TODAY.replace(day=1))

    assert sweeps.sweep_overdue(at=NOW).created == 12
    assert one_alert_per_overdue_item()


# --- the tasks and their schedule -------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_tasks_return_their_counts(patient_a: Patient, make_items: MakeItems) -> None:
    import time_machine

    make_items(patient_a, 2, closes_on=YESTERDAY)
    with time_machine.travel(NOW, tick=False):
        counts = sweep_tasks.sweep_overdue.delay().get()

    assert counts["created"] == 2
    assert set(counts) >= {"created", "resolved", "claimed"}


def test_every_beat_entry_names_a_registered_task() -> None:
    from django.conf import settings

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "treatments.sweep_overdue",
        "treatments.sweep_due_soon",
        "treatments.sweep_breached_referrals",
        "treatments.sweep_missing_edss",
        "treatments.sweep_extend_monitoring",
        "patients.records.tasks.refresh_clinical_status",
    } <= scheduled


# --- a killed worker (run for real in test_killed_worker.py) ------------------------------

LONGEST_MEASURED_TASK_SECONDS = 140  # README, Performance: the overdue sweep over 300,000 items


def period_seconds(schedule: Any) -> float:
    """The shortest gap between two sends of a beat entry."""
    if isinstance(schedule, float | int):
        return float(schedule)
    fires = sorted(h * 60 + m for h in schedule.hour for m in schedule.minute)
    gaps = [b - a for a, b in zip(fires, [*fires[1:], fires[0] + 24 * 60], strict=True)]
    return min(gaps) * 60.0


def test_a_task_whose_worker_child_dies_is_sent_again_not_acknowledged() -> None:
    app.loader.import_default_modules()
    sweep = app.tasks["treatments.sweep_missing_edss"]

    assert sweep.acks_late
    assert sweep.retry_on_worker_lost  # at most max_retries times, so no endless loop
    assert sweep.max_retries is not None
    assert sweep.reject_on_worker_lost  # if sending the retry fails, back on the queue
    assert sweep.default_retry_delay <= 60  # minutes early, not a day late


def test_a_message_lost_with_its_worker_comes_back_within_minutes_and_is_not_expired() -> None:
    from django.conf import settings

    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    visibility = options["visibility_timeout"]
    scan = options["unacked_restore_interval"] * options["unacked_restore_throttle"]
    # Longer than any task, so a running task is not handed out twice; short enough that a
    # killed daily sweep runs again the same morning.
    assert 2 * LONGEST_MEASURED_TASK_SECONDS < visibility <= 15 * 60
    assert visibility + scan == settings.TASK_REDELIVERY_SECONDS
    schedule: dict[str, Any] = settings.CELERY_BEAT_SCHEDULE
    for name, entry in schedule.items():
        # Either the message outlives its redelivery, or the next one is sent before it.
        needed = min(period_seconds(entry["schedule"]), settings.TASK_REDELIVERY_SECONDS)
        assert entry["options"]["expires"] >= needed, name
