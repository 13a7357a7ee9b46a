"""A sweep whose worker is killed half-way runs again within minutes, not a day later.

A real Celery worker runs the real overdue-sweep task against the test database and Redis;
tests/sweeps/slow_worker.py (loaded by that worker only) makes each chunk of the sweep take a
second and shortens the worker's waits. The test kills the worker's child process (what the
out-of-memory killer does), or the whole worker, in the middle of a chunk, and waits for the
work to be finished: every overdue item with exactly one alert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.celery import app
from patients.models import Patient
from tests.sweeps.conftest import build_items
from treatments.models import Alert, MonitoringItem
from treatments.monitoring.sweeps import clinic_today

# The suite runs tasks inline (tests/conftest.py); these send to the real broker on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 40  # four chunks of ten, a second each
DEADLINE_SECONDS = 30


class Worker:
    """`celery worker` in a process group of its own, consuming one private queue."""

    def __init__(self, queue: str, log: Path) -> None:
        base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
        env = {
            **os.environ,
            "DATABASE_URL": f"{base}/{connection.settings_dict['NAME']}",  # the test database
            "REDIS_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "celery", "-A", "clinic", "worker", "--loglevel", "INFO"),
                    *("--concurrency", "1", "--pool", "prefork", "--queues", queue),
                    *("--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h"),
                    *("--include", "tests.sweeps.slow_worker"),
                    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                ],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def child(self) -> int:
        """The pool process that runs tasks (started once the worker is ready)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = wait_for(lambda: path.read_text().split(), "the worker's pool process", 60)
        return int(found[0])

    def kill_child(self) -> None:
        os.kill(self.child(), signal.SIGKILL)

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def finished_a_sweep(self) -> bool:
        return "treatments.sweep_overdue[<id>] succeeded" in self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the main process lets its child finish
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_all()


def wait_for[T](check: Callable[[], T], what: str, seconds: float) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what} after {seconds:.0f} s")


@pytest.fixture
def workers(tmp_path: Path, log_watch: Callable[[Path], None]) -> Iterator[Callable[[], Worker]]:
    queue = f"killtest-{uuid.uuid4().hex[:8]}"
    started: list[Worker] = []

    def start() -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        log_watch(log)  # the worker's output is checked for patient data like every log
        worker = Worker(queue, log)
        started.append(worker)
        return worker

    start.queue = queue  # type: ignore[attr-defined]
    yield start
    for worker in started:
        worker.stop()
    with app.connection_for_write() as broker:
        broker.default_channel.queue_delete(queue)


def send_overdue_sweep(queue: str) -> None:
    """As beat sends it: the same task, with the expiry from the beat schedule."""
    options = settings.CELERY_BEAT_SCHEDULE["sweep-overdue-monitoring"]["options"]
    app.send_task("treatments.sweep_overdue", queue=queue, **options)


def alerts_so_far() -> int:
    return Alert.objects.count()


def the_sweep_finished() -> bool:
    flagged = MonitoringItem.objects.filter(overdue_since__isnull=False).count()
    return alerts_so_far() == flagged == ITEMS


def one_alert_per_item() -> bool:
    keys = list(Alert.objects.values_list("condition_key", flat=True))
    items = MonitoringItem.objects.values_list("pk", flat=True)
    return sorted(keys) == sorted(f"overdue:item:{pk}" for pk in items)


@pytest.fixture
def overdue_items(patient_a: Patient) -> None:
    yesterday = clinic_today(timezone.now()) - timedelta(days=1)
    build_items(patient_a, ITEMS, closes_on=yesterday)


@pytest.mark.django_db(transaction=True)
def test_a_sweep_whose_worker_child_is_killed_mid_chunk_runs_again_at_once(
    overdue_items: None, workers: Callable[[], Worker]
) -> None:
    worker = workers()
    send_overdue_sweep(workers.queue)  # type: ignore[attr-defined]
    wait_for(lambda: alerts_so_far() >= 10, "the first chunk", DEADLINE_SECONDS)

    worker.kill_child()  # in the second chunk's transaction, which rolls back
    assert alerts_so_far() < ITEMS

    wait_for(worker.finished_a_sweep, "the sweep to be run again", DEADLINE_SECONDS)
    assert the_sweep_finished()
    assert one_alert_per_item()
    assert "retry" in worker.log.read_text()  # sent again by the worker, not by anything else


@pytest.mark.django_db(transaction=True)
def test_a_sweep_whose_whole_worker_is_killed_is_handed_to_the_next_worker(
    overdue_items: None, workers: Callable[[], Worker]
) -> None:
    first = workers()
    send_overdue_sweep(workers.queue)  # type: ignore[attr-defined]
    wait_for(lambda: alerts_so_far() >= 10, "the first chunk", DEADLINE_SECONDS)

    first.kill_all()  # main process and child: nobody is left to acknowledge or retry
    assert alerts_so_far() < ITEMS
    second = workers()  # finds the unacknowledged message once its visibility timeout passes

    wait_for(second.finished_a_sweep, "the next worker to run the sweep", DEADLINE_SECONDS)
    assert the_sweep_finished()
    assert one_alert_per_item()
