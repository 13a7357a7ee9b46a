"""Queueing saved results for evaluation (treatments.safety.evaluation) once they commit.

A result recorded on its own is queued as one task when its transaction commits. An import
that records thousands (treatments.labimport) wraps its work in `batched()`: the committed
results are sent in tasks of `BATCH_SIZE`, which saves the broker and worker a round trip per
result. Either way the row carries `evaluation_pending` from the moment it is saved until the
transaction that evaluates it commits, and the pending-evaluation sweep evaluates whatever is
left (the broker was down, the process was killed before its batch was sent, the evaluation
failed): an evaluation is never lost, only late.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import transaction

from clinic.celery import enqueue_now, enqueue_on_commit
from treatments.safety.batch import BATCH as BATCH_SIZE  # the results a task evaluates together

EVALUATE_ONE = "treatments.evaluate_result"
EVALUATE_MANY = "treatments.evaluate_results"


class _Batch:
    def __init__(self, size: int) -> None:
        self.size = size
        self.ids: list[int] = []

    def add(self, result_id: int) -> None:
        self.ids.append(result_id)
        if len(self.ids) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.ids:
            ids, self.ids = self.ids, []
            enqueue_now(EVALUATE_MANY, ids)


_batch: ContextVar[_Batch | None] = ContextVar("evaluation_batch", default=None)


def queue(result_id: int) -> None:
    """Queue a saved result's evaluation for when the current transaction commits (nothing
    is queued if it rolls back)."""
    batch = _batch.get()
    if batch is None:
        enqueue_on_commit(EVALUATE_ONE, result_id)
    else:
        transaction.on_commit(functools.partial(batch.add, result_id))


@contextlib.contextmanager
def batched(size: int = BATCH_SIZE) -> Iterator[None]:
    """Send the evaluations of the results committed inside in tasks of `size`.

    Inside an outer transaction the results commit with it: the last batch is sent then, after
    them (on-commit callbacks run in the order they were registered)."""
    batch = _Batch(size)
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
        transaction.on_commit(batch.flush)  # at once when no transaction is open
