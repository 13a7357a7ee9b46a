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
from collections.abc import Sequence
from datetime import datetime

from clinic.celery import app
from treatments.alerts.services import AlertSpec
from treatments.monitoring import sweeps

CHUNK_SIZE = 10
PAUSE_SECONDS = float(os.environ.get("MYELIN_TEST_CHUNK_PAUSE", "1.0"))
VISIBILITY_TIMEOUT = 6  # longer than a run here (four chunks of a second), as in production

_real_raise = sweeps._raise


def _raise_slowly(specs: Sequence[AlertSpec], *, at: datetime) -> tuple[int, int]:
    counts = _real_raise(specs, at=at)
    time.sleep(PAUSE_SECONDS)  # still inside the chunk's transaction: killed here, it rolls back
    return counts


sweeps._raise = _raise_slowly
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
