"""The lab import figure of `make bench`: HL7 v2 results for the generated clinic's patients,
imported the way the MLLP listener and uploads import them, evaluation included.

Messages are full blood counts (five results each) for existing patients, taken yesterday, one
in ten with a low lymphocyte count against the lab's range so that evaluation raises alerts too.
After-commit work (result evaluation, alert raising) runs in-process, as a worker would run it,
inside the timing. The rate counts results (OBX segments), the unit laboratories report in.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.test.utils import override_settings
from django.utils import timezone

from patients.models import Patient
from treatments.labimport import services
from treatments.models import Channel, MessageState

CBC = (
    ("6690-2^Leukocytes^LN", "6.1", "10*9/L", "4.0-11.0"),
    ("731-0^Lymphocytes^LN", "1.6", "10*9/L", "1.0-4.0"),
    ("751-8^Neutrophils^LN", "3.8", "10*9/L", "2.0-7.5"),
    ("777-3^Platelets^LN", "240", "10*9/L", "150-400"),
    ("718-7^Hemoglobin^LN", "13.6", "g/dL", "11.5-16.5"),
)


@dataclass(frozen=True)
class ImportRate:
    results: int
    messages: int
    seconds: float
    imported: int
    held: int
    import_seconds: float = 0.0  # until the last message committed (evaluation may run on)

    @property
    def per_second(self) -> float:
        return self.results / self.seconds if self.seconds else 0.0


def oru_messages(
    patients: list[tuple[str, date]], count: int, *, taken_on: date, run: str = "1"
) -> list[str]:
    """`count` ORU^R01 messages (v2.5.1), round-robin over (MRN, date of birth); `run` keeps
    the control ids of one run apart from another's."""
    day = f"{taken_on:%Y%m%d}"
    messages = []
    for number in range(count):
        mrn, born = patients[number % len(patients)]
        observations = []
        for set_id, (code, value, unit, ref) in enumerate(CBC, start=1):
            if set_id == 2 and number % 10 == 0:
                value = "0.7"  # below the lab's range: evaluated against the patient's DMT
            observations.append(f"OBX|{set_id}|NM|{code}||{value}|{unit}|{ref}||||F|||{day}0800")
        messages.append(
            "\r".join(
                [
                    f"MSH|^~\\&|BENCHLAB|BENCHLAB|MYELIN|CLINIC|{day}1000||ORU^R01^ORU_R01|"
                    f"BENCH-{run}-{number:07d}|P|2.5.1",
                    f"PID|1||{mrn}^^^CLINIC^MR||Bench^Patient||{born:%Y%m%d}",
                    f"OBR|1|BP{run}-{number}|BF{run}-{number}|58410-2^CBC panel^LN|||{day}0800",
                    *observations,
                ]
            )
            + "\r"
        )
    return messages


def measure(results: int = 10_000, *, workers: int = 0) -> ImportRate:
    """Import about `results` results into the current database and time it until every
    result is evaluated (it writes: run it on a scratch copy).

    With `workers`, evaluation runs as in production: queued after each message commits and
    worked by that many Celery worker processes beside the import (started here on the same
    database and broker); the timing ends when the queue is empty and no worker is busy.
    Without, it runs in this process after each commit, as a worker would run it."""
    from clinic.celery import app

    patients = list(
        Patient.objects.filter(status="active").order_by("id").values_list("mrn", "date_of_birth")
    )
    if not patients:
        raise RuntimeError("no patients to import results for")
    count = max(1, results // len(CBC))
    taken_on = timezone.localdate() - timedelta(days=1)
    messages = oru_messages(patients, count, taken_on=taken_on, run=f"{time.time():.0f}")
    text = "".join(f"\x0b{m}\x1c\r" for m in messages)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = not workers
    try:
        with (
            _celery_workers(workers) if workers else contextlib.nullcontext(),
            override_settings(
                MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
            ),
        ):
            started = time.perf_counter()
            summary = services.receive(text=text, channel=Channel.FILE, by=None)
            imported_in = time.perf_counter() - started
            if workers:
                _wait_until_idle(app)
            elapsed = time.perf_counter() - started
    finally:
        app.conf.task_always_eager = eager
    return ImportRate(
        results=summary.results,
        messages=len(summary.outcomes),
        seconds=elapsed,
        imported=summary.count(MessageState.IMPORTED),
        held=summary.count(MessageState.QUEUED),
        import_seconds=imported_in,
    )


@contextlib.contextmanager
def _celery_workers(concurrency: int) -> Iterator[None]:
    """A Celery worker (prefork, `concurrency` processes) on this database and broker."""
    from django.db import connection

    from clinic.celery import app

    base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
    env = {
        **os.environ,
        "DATABASE_URL": f"{base}/{connection.settings_dict['NAME']}",
        # Critical alerts are emailed by the workers; a bench prints no emails.
        "MYELIN_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "clinic",
            "--quiet",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench-labs-{os.getpid()}@%h",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker for the lab import figure did not start")
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


def _wait_until_idle(app: Any) -> None:
    """Until the broker's queue is empty and no worker holds a task (checked twice in a row,
    as a task moves from the queue to a worker)."""
    quiet = 0
    with app.connection_for_read() as conn:
        client = conn.default_channel.client
        while quiet < 2:
            inspect = app.control.inspect(timeout=1.0)
            busy = any((inspect.active() or {}).values()) or any(
                (inspect.reserved() or {}).values()
            )
            queued = client.llen(app.conf.task_default_queue)
            quiet = quiet + 1 if not busy and not queued else 0
            time.sleep(0.2)
