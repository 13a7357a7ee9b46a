"""The overdue sweep at scale: "nothing due" is an index probe, the recheck list the database
keeps means no flagged item is ever left without its alert, and chunks are shared by any
number of workers without overlap or loss, a dead or hung worker's chunk included.

Real PostgreSQL throughout: other processes hold chunks for real (SKIP LOCKED, a connection
killed, a transaction cut off by its lease)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import User
from patients.models import Patient
from tests.sweeps.conftest import NOW, TODAY, MakeItems, build_items
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertStatus, ItemStatus, MonitoringItem, OverdueRecheck
from treatments.monitoring import overdue, sweeps

ROOT = Path(__file__).resolve().parents[2]
YESTERDAY = TODAY - timedelta(days=1)


def one_standing_alert_per_overdue_item() -> bool:
    standing = set(
        Alert.objects.exclude(status=AlertStatus.RESOLVED).values_list("condition_key", flat=True)
    )
    items = MonitoringItem.objects.overdue(on=TODAY).values_list("pk", flat=True)
    return standing == {f"overdue:item:{pk}" for pk in items}


# --- nothing due --------------------------------------------------------------------------------


def test_a_sweep_with_nothing_due_asks_two_index_questions(
    patient_a: Patient, make_items: MakeItems
) -> None:
    make_items(patient_a, 30, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)

    with CaptureQueriesContext(connection) as idle:
        assert sweeps.sweep_overdue(at=NOW + timedelta(hours=1)) == sweeps.SweepResult()

    statements = [
        q["sql"] for q in idle.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    # The recheck list, then the newly overdue: one claim each, each finding nothing.
    assert sum("treatments_overduerecheck" in sql for sql in statements) == 1
    assert sum("FOR UPDATE SKIP LOCKED" in sql for sql in statements) == 2


def test_the_newly_overdue_are_claimed_through_the_partial_index_not_the_table(
    patient_a: Patient, make_items: MakeItems
) -> None:
    make_items(patient_a, 30, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    parameters = overdue._parameters(TODAY, NOW, 500)

    with connection.cursor() as cursor:
        # Statistics of this table as it is now, not as other tests left it (the planner
        # otherwise picks whichever index those numbers favour).
        cursor.execute("ANALYZE treatments_monitoringitem")
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a table of ten million rows
        cursor.execute(f"EXPLAIN {overdue._FLAG_CHUNK}", parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "monitoring_unflagged_open_idx" in plan, plan


# --- the recheck list -------------------------------------------------------------------------


def test_an_overdue_alert_closed_behind_the_sweeps_back_is_reopened_by_the_next_run(
    patient_a: Patient, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    # A bulk path that resolved it "automatically" though the check is still not done.
    alerts.resolve_raised_by(
        raised_by_type=sweeps.ITEM_TYPE, raised_by_ids=[item.pk], note="Closed by mistake."
    )
    assert OverdueRecheck.objects.filter(item_id=item.pk).exists()  # the database noticed

    again = sweeps.sweep_overdue(at=NOW + timedelta(hours=1))

    assert again.reopened == 1
    assert Alert.objects.get().status == AlertStatus.OPEN
    assert not OverdueRecheck.objects.exists()
    assert one_standing_alert_per_overdue_item()


def test_a_deleted_overdue_alert_is_raised_again(patient_a: Patient, make_items: MakeItems) -> None:
    make_items(patient_a, 3, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    Alert.objects.filter(pk=Alert.objects.order_by("pk").first().pk).delete()  # type: ignore[union-attr]

    again = sweeps.sweep_overdue(at=NOW + timedelta(hours=1))

    assert again.created == 1
    assert one_standing_alert_per_overdue_item()


def test_an_item_done_behind_the_sweeps_back_has_its_alert_resolved_with_the_reason(
    patient_a: Patient, make_items: MakeItems
) -> None:
    items = make_items(patient_a, 3, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    MonitoringItem.objects.filter(pk=items[0].pk).update(
        status=ItemStatus.DONE_LATE, completed_on=TODAY
    )
    MonitoringItem.objects.filter(pk=items[1].pk).update(
        status=ItemStatus.WAIVED, waived_reason="Done at the GP."
    )

    again = sweeps.sweep_overdue(at=NOW + timedelta(hours=1))

    assert again.resolved == 2
    notes = dict(Alert.objects.values_list("condition_key", "resolution_note"))
    assert notes[f"overdue:item:{items[0].pk}"] == "Closed automatically: result recorded."
    assert notes[f"overdue:item:{items[1].pk}"] == "Closed automatically: check waived."
    assert notes[f"overdue:item:{items[2].pk}"] == ""  # still overdue, still open
    done = MonitoringItem.objects.get(pk=items[0].pk)
    assert done.overdue_since == TODAY  # kept once done: when someone was told
    assert not OverdueRecheck.objects.exists()


def test_a_person_resolving_the_alert_puts_nothing_on_the_list(
    patient_a: Patient, nurse: User, make_items: MakeItems
) -> None:
    make_items(patient_a, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)

    alerts.resolve(alert=Alert.objects.get(), by=nurse, note="Booked with the GP for Monday.")

    assert not OverdueRecheck.objects.exists()


def test_the_alert_says_what_the_item_is_and_names_the_general_duty_it_also_answers(
    patient_a: Patient, make_items: MakeItems
) -> None:
    (item,) = make_items(patient_a, closes_on=YESTERDAY)
    MonitoringItem.objects.filter(pk=item.pk).update(merged_why="A yearly liver check.")

    sweeps.sweep_overdue(at=NOW)

    alert = Alert.objects.get()
    assert alert.title == "ALT overdue: due 14 Jun 2026, window closed 14 Jun 2026"
    assert alert.detail == (
        "ALT monthly for the first six months (test). Also the general duty: A yearly liver check."
    )
    assert (alert.source, alert.owner_id) == ("Test label §4.4", patient_a.nurse_id)


# --- chunks shared by workers -------------------------------------------------------------------

HOLD_A_CHUNK = """
import sys, time
import django
django.setup()
from treatments.monitoring import overdue
from treatments.monitoring.sweeps import clinic_today
from django.utils import timezone

overdue.CHUNK_LEASE_SECONDS = float(sys.argv[2])
real = overdue._counts

def claim_then_stop(sql, parameters):
    counts = real(sql, parameters)
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        print(f"holding {counts[0]} {cursor.fetchone()[0]}", flush=True)
    time.sleep(600)  # inside the chunk's transaction, its rows locked

overdue._counts = claim_then_stop
now = timezone.now()
overdue.flag_chunk(today=clinic_today(now), at=now, size=int(sys.argv[1]))
"""


def hold_a_chunk(size: int, *, lease_seconds: float) -> tuple[subprocess.Popen[str], int]:
    """Another worker process that claims `size` items and then stops answering; the process
    and its database session's pid."""
    base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
    env = {**os.environ, "DATABASE_URL": f"{base}/{connection.settings_dict['NAME']}"}
    worker = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_CHUNK, str(size), str(lease_seconds)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert worker.stdout is not None
    said, held, backend = worker.stdout.readline().split()
    assert (said, held) == ("holding", str(size))
    return worker, int(backend)


def wait_until_gone(backend: int, seconds: float = 30) -> None:
    """Until PostgreSQL has ended that session (and so rolled its chunk back)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend])
            if cursor.fetchone() is None:
                return
        time.sleep(0.1)
    raise AssertionError(f"the session of the other worker was still there after {seconds} s")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["killed", "hung"])
def test_a_chunk_held_by_a_dead_or_hung_worker_is_skipped_then_taken_by_another(
    patient_a: Patient, how: str
) -> None:
    build_items(patient_a, 50, closes_on=YESTERDAY)
    lease = 2.0 if how == "hung" else 600.0
    other, backend = hold_a_chunk(20, lease_seconds=lease)
    try:
        # No overlap: the held rows are skipped, not waited for and not done twice.
        meanwhile = sweeps.sweep_overdue(chunk_size=7)
        assert (meanwhile.claimed, meanwhile.created) == (30, 30)

        if how == "killed":
            os.killpg(other.pid, signal.SIGKILL)  # its connection drops: the chunk rolls back
        # Hung: still alive, but its lease (the idle transaction) runs out and is cut off.
        wait_until_gone(backend)
        assert (how == "hung") == (other.poll() is None)
        after = sweeps.sweep_overdue(chunk_size=7)
    finally:
        if other.poll() is None:
            os.killpg(other.pid, signal.SIGKILL)
        other.wait(timeout=10)

    # No loss: the dead worker's chunk went to the next sweep, once.
    assert (after.claimed, after.created) == (20, 20)
    keys = sorted(Alert.objects.values_list("condition_key", flat=True))
    assert keys == sorted(
        f"overdue:item:{pk}" for pk in MonitoringItem.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_a_recheck_held_by_another_worker_is_left_to_it(patient_a: Patient) -> None:
    items = build_items(patient_a, 4, closes_on=YESTERDAY)
    sweeps.sweep_overdue(at=NOW)
    MonitoringItem.objects.filter(pk__in=[i.pk for i in items]).update(
        status=ItemStatus.CANCELLED, cancelled_reason="Plan stopped."
    )
    assert OverdueRecheck.objects.count() == 4

    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT item_id FROM treatments_overduerecheck WHERE item_id = %s FOR UPDATE",
                [items[0].pk],
            )
        meanwhile = sweeps.sweep_overdue(at=NOW)
        other.rollback()
    finally:
        other.close()
    after = sweeps.sweep_overdue(at=NOW)

    assert (meanwhile.resolved, after.resolved) == (3, 1)
    assert not Alert.objects.exclude(status=AlertStatus.RESOLVED).exists()
