"""Writing to the access trail. Every patient page, list, partial and export goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.utils import timezone

from clinic.audit.models import CURRENT_SCHEME, GENESIS_HASH, AccessEvent, Action, Category

if TYPE_CHECKING:
    from clinic.accounts.models import User
    from clinic.audit.checkpoints import Checkpoint

# Appends are serialised by one advisory lock and chained in the database: audit_append()
# (migration 0003) takes the lock, reads the last hash, and inserts the rows chained onto it, in
# one statement. Outside a transaction the lock is held for that statement only.


@dataclass(frozen=True)
class Entry:
    patient_id: int | None
    action: str
    category: str
    object_type: str = ""
    object_id: str = ""
    detail: str = ""


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def record(
    *,
    user: User | None,
    patient: Any = None,
    action: Action | str,
    category: Category | str,
    obj: models.Model | None = None,
    detail: str = "",
) -> AccessEvent:
    object_type, object_id = _object_ref(obj)
    patient_id = getattr(patient, "pk", patient)
    [event] = record_many(
        user=user,
        entries=[Entry(patient_id, str(action), str(category), object_type, object_id, detail)],
    )
    return event


def record_list(
    *, user: User | None, patient_ids: Iterable[int], category: Category | str, detail: str = ""
) -> list[AccessEvent]:
    """A list page shows several patients: one LIST record per patient shown."""
    return record_many(
        user=user,
        entries=[Entry(pid, Action.LIST, str(category), detail=detail) for pid in patient_ids],
    )


def record_many(*, user: User | None, entries: list[Entry]) -> list[AccessEvent]:
    if not entries:
        return []
    user_id = user.pk if user is not None and user.is_authenticated else None
    now = timezone.now()
    events = [
        AccessEvent(
            at=now,
            user_id=user_id,
            patient_id=entry.patient_id,
            action=entry.action,
            category=entry.category,
            object_type=entry.object_type,
            object_id=entry.object_id,
            detail=entry.detail[:200],
            scheme=CURRENT_SCHEME,
        )
        for entry in entries
    ]
    columns = zip(
        *[
            (e.patient_id, e.action, e.category, e.object_type, e.object_id, e.detail)
            for e in events
        ],
        strict=True,
    )
    patient_ids, actions, categories, object_types, object_ids, details = map(list, columns)
    # A failed append fails the caller's transaction, if any: nothing is shown or changed
    # without its access record.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_id, event_hash, event_prev_hash FROM audit_append("
            "%s, %s, %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
            " %s::text[])",
            [
                now,
                user_id,
                patient_ids,
                actions,
                categories,
                object_types,
                object_ids,
                details,
                [event.content_digest() for event in events],
            ],
        )
        rows = cursor.fetchall()
    for event, (event_id, event_hash, prev_hash) in zip(events, rows, strict=True):
        event.id, event.hash, event.prev_hash = event_id, event_hash, prev_hash
        event._state.adding = False
        event._state.db = connection.alias
    return events


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


def verify_chain(
    *, checkpoints: Sequence[Checkpoint] = (), batch_size: int = 5000
) -> list[ChainProblem]:
    """Walk the chain in id order and name every row that does not fit.

    A modified row no longer matches its own hash; a deleted row leaves its successor pointing
    at a hash that is not its predecessor's; a reordered row (ids swapped) breaks both.

    Checkpoints (clinic.audit.checkpoints) catch what the chain alone cannot: a checkpointed row
    must still exist, with the hash it had then (an edit followed by recomputing every later
    hash changes it) and the same number of rows up to it (deleting the newest rows removes it).
    """
    problems: list[ChainProblem] = []
    pending = sorted((c for c in checkpoints if c.last_id > 0), key=lambda c: (c.last_id, c.seq))
    prev = GENESIS_HASH
    last_id = 0
    count = 0
    while True:
        batch = list(AccessEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            while pending and pending[0].last_id < event.id:
                problems.append(_missing(pending.pop(0)))
            count += 1
            if event.prev_hash != prev:
                problems.append(
                    ChainProblem(
                        event.id, "does not follow the previous row (deleted or reordered)"
                    )
                )
            if event.compute_hash() != event.hash:
                problems.append(
                    ChainProblem(event.id, "its contents do not match its hash (modified)")
                )
            while pending and pending[0].last_id == event.id:
                problems.extend(_against(pending.pop(0), event, count))
            prev = event.hash
            last_id = event.id
    problems.extend(_missing(checkpoint) for checkpoint in pending)
    return problems


def _missing(checkpoint: Checkpoint) -> ChainProblem:
    return ChainProblem(
        checkpoint.last_id,
        f"is gone, though checkpoint {checkpoint.seq} ({checkpoint.at:%Y-%m-%d %H:%M}) "
        f"recorded it as the last of {checkpoint.count} rows (deleted)",
    )


def _against(checkpoint: Checkpoint, event: AccessEvent, count: int) -> list[ChainProblem]:
    found = []
    if event.hash != checkpoint.last_hash:
        found.append(
            ChainProblem(
                event.id,
                f"its hash differs from checkpoint {checkpoint.seq} "
                f"({checkpoint.at:%Y-%m-%d %H:%M}): the trail up to it was rewritten",
            )
        )
    if count != checkpoint.count:
        found.append(
            ChainProblem(
                event.id,
                f"{count} rows up to it, but checkpoint {checkpoint.seq} "
                f"({checkpoint.at:%Y-%m-%d %H:%M}) counted {checkpoint.count} "
                "(rows deleted or inserted)",
            )
        )
    return found
