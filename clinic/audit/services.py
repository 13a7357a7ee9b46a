"""Writing to the access trail. Every patient page, list, partial and export goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone

from clinic.audit.models import GENESIS_HASH, AccessEvent, Action, Category

if TYPE_CHECKING:
    from clinic.accounts.models import User

# Appends are serialised by one advisory lock, taken together with the ids and the last hash by
# the audit_reserve() database function (migration 0002) in a single round trip, and held to the
# end of the transaction: the reservation and the insert, or the caller's whole transaction.


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
    # No savepoint: a failed append must fail the caller's whole transaction anyway (nothing is
    # shown or changed without its access record), and the savepoint pair cost two round trips
    # on every page.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT event_id, last_hash FROM audit_reserve(%s)", [len(entries)])
            rows = cursor.fetchall()
        ids = [row[0] for row in rows]
        last = rows[0][1]
        prev = last or GENESIS_HASH
        now = timezone.now()
        events = []
        for event_id, entry in zip(sorted(ids), entries, strict=True):
            event = AccessEvent(
                id=event_id,
                at=now,
                user_id=user_id,
                patient_id=entry.patient_id,
                action=entry.action,
                category=entry.category,
                object_type=entry.object_type,
                object_id=entry.object_id,
                detail=entry.detail[:200],
                prev_hash=prev,
            )
            event.hash = event.compute_hash()
            prev = event.hash
            events.append(event)
        AccessEvent.objects.bulk_create(events)
    return events


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


def verify_chain(*, batch_size: int = 5000) -> list[ChainProblem]:
    """Walk the chain in id order and name every row that does not fit.

    A modified row no longer matches its own hash; a deleted row leaves its successor pointing
    at a hash that is not its predecessor's; a reordered row (ids swapped) breaks both.
    """
    problems: list[ChainProblem] = []
    prev = GENESIS_HASH
    last_id = 0
    while True:
        batch = list(AccessEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
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
            prev = event.hash
            last_id = event.id
    return problems
