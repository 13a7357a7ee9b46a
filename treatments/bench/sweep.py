"""The overdue sweep's figures for `make bench`: the sweep against one raw SQL statement doing
the same work, the sweep with nothing due, and the sweep spread over one and two Celery
workers, each on a committed scratch copy of the bench database."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from treatments.bench.figures import figure

SWEEP_DUE = int(os.environ.get("MYELIN_BENCH_SWEEP_DUE", "300000"))
IDLE_SWEEP_TARGET_S = 0.1
SWEEP_RATIO_TARGET = 2.0


def sweep() -> None:
    """The overdue sweep with 300,000 items due, against one raw SQL statement doing the same
    work, each on its own committed copy of the bench database (a sweep commits chunk by chunk,
    so timing it inside one big rolled-back transaction would measure something else); then a
    sweep with nothing due, and the same backlog swept by one and by two Celery workers."""
    from django.db import OperationalError

    from treatments.models import MonitoringItem

    total = MonitoringItem.objects.count()
    figure("monitoring items", float(total), "items")
    due = min(SWEEP_DUE, total)
    raw_time = 0.0
    steps = [
        ("raw SQL", "raw"),
        ("sweep_overdue", "sweep"),
        ("sweep_overdue, nothing due", "idle"),
        ("sweep_overdue, 1 Celery worker", "workers:1"),
        ("sweep_overdue, 2 Celery workers", "workers:2"),
    ]
    for label, run in steps:
        try:
            elapsed = on_scratch_copy(functools.partial(_timed_sweep_step, run))
        except OperationalError:
            figure(label, "timed out", "", f"> {SWEEP_TIMEOUT_S} s")
            continue
        if run == "idle":
            target = f"< {IDLE_SWEEP_TARGET_S * 1000:g} ms"
            figure(label, elapsed * 1000, "ms", target, elapsed < IDLE_SWEEP_TARGET_S)
            continue
        figure(f"{label} ({due:,} due)", elapsed, "s")
        if run == "raw":
            raw_time = elapsed
        elif run != "sweep":
            continue
        elif raw_time:
            ratio = elapsed / raw_time
            target = f"<= {SWEEP_RATIO_TARGET:g}x"
            figure("sweep / raw SQL", ratio, "x", target, ratio <= SWEEP_RATIO_TARGET)
        else:
            figure("sweep / raw SQL", "not available", "", "the raw SQL did not finish")


# Makes up to SWEEP_DUE items due (the earliest by id, whatever their state) on a scratch copy.
DUE_SQL = (
    "UPDATE treatments_monitoringitem SET status = 'scheduled', completed_on = NULL,"
    " result_id = NULL, settled_by_id = NULL, overdue_since = NULL, window_closes_on = %s - 1,"
    " due_on = LEAST(due_on, %s - 1), window_opens_on = LEAST(window_opens_on, %s - 1)"
    " WHERE id IN (SELECT id FROM treatments_monitoringitem WHERE status <> 'cancelled'"
    " ORDER BY id LIMIT %s)"
)
# The core of sweep_overdue in one statement: stamp newly overdue items and insert one alert
# each for the nurse (or neurologist), letting the unique condition key drop duplicates.
RAW_SQL = (
    "WITH marked AS (UPDATE treatments_monitoringitem SET overdue_since = %s"
    " WHERE status IN ('scheduled', 'booked') AND window_closes_on < %s AND overdue_since IS NULL"
    " RETURNING id, patient_id)"
    " INSERT INTO treatments_alert (patient_id, kind, grade, condition_key, title, detail, action,"
    " source, raised_by_type, raised_by_id, owner_id, status, created_at, resolution_note,"
    " resolved_automatically, snooze_reason)"
    " SELECT m.patient_id, 'overdue_monitoring', 'warning', 'overdue:item:' || m.id,"
    " 'Monitoring overdue', '', '', '', 'treatments.monitoringitem', m.id::text,"
    " COALESCE(p.nurse_id, p.neurologist_id), 'open', now(), '', false, ''"
    " FROM marked m JOIN patients_patient p ON p.id = m.patient_id"
    " ON CONFLICT (condition_key) DO NOTHING"
)

SWEEP_TIMEOUT_S = int(os.environ.get("MYELIN_BENCH_SWEEP_TIMEOUT", "600"))


def on_scratch_copy[T](step: Callable[[], T]) -> T:
    """Run `step` against a fresh copy of the bench database, then drop the copy."""
    import psycopg
    from django.db import connection, connections

    db = connection.settings_dict
    name = db["NAME"]
    scratch = f"{name}_scratch"
    dsn = f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname=postgres"
    connections.close_all()
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {scratch} TEMPLATE {name}")
    db["NAME"] = scratch
    try:
        return step()
    finally:
        connections.close_all()
        db["NAME"] = name
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


def _timed_sweep_step(run: str) -> float:
    import pghistory
    from django.db import connection
    from django.utils import timezone

    from treatments.monitoring.sweeps import sweep_overdue

    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{SWEEP_TIMEOUT_S}s'")
        if run != "idle":
            with pghistory.context(job="bench_make_due"):
                cursor.execute(DUE_SQL, [today, today, today, SWEEP_DUE])
        cursor.execute("VACUUM ANALYZE treatments_monitoringitem")
    if run.startswith("workers:"):
        return _swept_by_celery(int(run.partition(":")[2]))
    started = time.perf_counter()
    if run == "raw":
        # The same history context the sweep writes under: same triggers, same work.
        with pghistory.context(job="sweep_overdue"), connection.cursor() as cursor:
            cursor.execute(RAW_SQL, [today, today])
    else:
        sweep_overdue(at=timezone.now())
    return time.perf_counter() - started


def _swept_by_celery(workers: int) -> float:
    """The beat's overdue sweep task sent once, worked by `workers` Celery worker processes
    (started beforehand, not timed); seconds until the queue is empty and nobody is busy (the
    idle check itself adds about a second)."""
    from clinic.celery import app
    from treatments.bench.lab_import import _celery_workers, _wait_until_idle
    from treatments.models import MonitoringItem

    with _celery_workers(workers):
        started = time.perf_counter()
        app.send_task("treatments.sweep_overdue", expires=SWEEP_TIMEOUT_S)
        _wait_until_idle(app)
        elapsed = time.perf_counter() - started
    left = MonitoringItem.objects.overdue(on=_today()).filter(overdue_since__isnull=True).count()
    if left:
        raise RuntimeError(f"the Celery sweep left {left} overdue items unflagged")
    return elapsed


def _today() -> Any:
    from django.utils import timezone

    from treatments.monitoring.sweeps import clinic_today

    return clinic_today(timezone.now())
