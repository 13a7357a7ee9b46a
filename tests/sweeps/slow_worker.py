"""Loaded only by the Celery worker that tests/sweeps/test_killed_worker.py starts
(`celery worker --include tests.sweeps.slow_worker`), never by the app.

It slows the real overdue sweep down (small chunks, a pause inside each chunk's transaction)
so the test can kill the worker half-way through a run, and it shortens the worker's waits
(visibility timeout, restore scans, retry delay) so a redelivery takes seconds, not minutes.
"""

from __future__ import annotations

import functools
import os
import time

from clinic.celery import app
from treatments.monitoring import overdue, sweeps

CHUNK_SIZE = 10
PAUSE_SECONDS = float(os.environ.get("MYELIN_TEST_CHUNK_PAUSE", "1.0"))
VISIBILITY_TIMEOUT = 6  # longer than a run here (four chunks of a second), as in production

_real_counts = overdue._counts


def _counts_slowly(sql: str, parameters: dict[str, object]) -> tuple[int, int, int]:
    counts = _real_counts(sql, parameters)
    time.sleep(PAUSE_SECONDS)  # still inside the chunk's transaction: killed here, it rolls back
    return counts


overdue._counts = _counts_slowly
sweeps.sweep_overdue = functools.partial(sweeps.sweep_overdue, chunk_size=CHUNK_SIZE)  # type: ignore[assignment]

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
app.loader.import_default_modules()
for task in app.tasks.values():
    task.default_retry_delay = 1
