"""The overdue sweep in set-based SQL, in chunks any number of workers take in parallel.

Two kinds of work, each claimed in chunks with ``FOR UPDATE SKIP LOCKED`` and done in one
transaction per chunk (a statement or three, no per-row Python):

* **Newly overdue** items: open, window closed before today, never flagged this episode
  (``overdue_since IS NULL``, served by the partial index ``monitoring_unflagged_open_idx``).
  One statement stamps ``overdue_since`` and inserts each item's WARNING alert for the
  patient's nurse, or reopens an alert that was resolved automatically
  (``INSERT ... ON CONFLICT (condition_key) DO UPDATE ... WHERE resolved automatically``).
* **Rechecks** (``OverdueRecheck``): items whose episode may have changed behind the sweep's
  back, written by database triggers (migration 0019). The sweep resolves the alert of an item
  that is done, waived, cancelled, before go-live or moved later; clears ``overdue_since``
  where a new episode must get a new date; and raises or reopens the alert of an item still
  overdue. The recheck row is deleted in the same transaction.

So "nothing due" costs two index probes, and the guarantee that no flagged open item is left
without its standing alert is kept by the database: the only ways to lose one (an automatic
resolution, a deletion) put the item on the recheck list in the same transaction.

**Chunks and workers.** A chunk is the rows one ``SELECT ... LIMIT n FOR UPDATE SKIP LOCKED``
returns: a second worker skips rows the first holds and takes the next ones, so workers never
overlap, and a chunk's rows stay candidates until its transaction commits, so nothing is lost.
A chunk's lease is its transaction: a worker that dies drops its connection and PostgreSQL
rolls the chunk back at once; one that hangs inside a chunk is cut off by
``idle_in_transaction_session_timeout`` (``CHUNK_LEASE_SECONDS``), and the rows go back to
whoever asks next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from treatments.protocols import INVESTIGATIONS

CHUNK_LEASE_SECONDS = 120

# The alert an overdue item raises, for the items in CTE `marked` (the columns of
# alerts.services.raise_alerts for an AlertSpec, in SQL: routed to the patient's nurse, else
# the neurologist, as alerts.services.route does; dates as "%d %b %Y").
_RAISE = """
, names AS (SELECT * FROM unnest(%(codes)s::text[], %(names)s::text[]) AS n(code, name))
, raised AS (
    INSERT INTO treatments_alert (
        patient_id, kind, grade, condition_key, title, detail, action, source,
        raised_by_type, raised_by_id, owner_id, status, created_at, snooze_reason,
        resolution_note, resolved_automatically)
    SELECT m.patient_id, 'overdue_monitoring', 'warning', 'overdue:item:' || m.id,
        left(COALESCE(n.name, m.investigation) || ' overdue: due ' || to_char(m.due_on,
             'DD Mon YYYY') || ', window closed ' || to_char(m.window_closes_on, 'DD Mon YYYY'),
             200),
        CASE WHEN m.merged_why = '' THEN m.explanation
             ELSE m.explanation || ' Also the general duty: ' || m.merged_why END,
        %(action)s, left(m.source, 200), 'treatments.monitoringitem', m.id::text,
        (SELECT COALESCE(p.nurse_id, p.neurologist_id) FROM patients_patient p
         WHERE p.id = m.patient_id),
        'open', %(at)s, '', '', false
    FROM marked m
    LEFT JOIN names n ON n.code = m.investigation
    ON CONFLICT (condition_key) DO UPDATE SET
        status = 'open', title = EXCLUDED.title, detail = EXCLUDED.detail,
        resolved_at = NULL, resolved_automatically = false, resolution_note = '',
        created_at = EXCLUDED.created_at
    WHERE treatments_alert.status = 'resolved' AND treatments_alert.resolved_automatically
    RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM marked),
       count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
FROM raised
"""

# Newly overdue items: claim a chunk, stamp it, raise its alerts.
_FLAG_CHUNK_HEAD = """
WITH chunk AS (
    SELECT id FROM treatments_monitoringitem
    WHERE status IN ('scheduled', 'booked') AND window_closes_on < %(today)s
      AND overdue_since IS NULL
    ORDER BY window_closes_on
    LIMIT %(size)s
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE treatments_monitoringitem m SET overdue_since = %(today)s
    WHERE m.id = ANY(ARRAY(SELECT id FROM chunk))
    RETURNING m.id, m.patient_id, m.investigation, m.due_on, m.window_closes_on,
              m.explanation, m.merged_why, m.source
)"""
_FLAG_CHUNK = _FLAG_CHUNK_HEAD + _RAISE

_TAKE_RECHECKS = """
DELETE FROM treatments_overduerecheck
WHERE item_id IN (
    SELECT item_id FROM treatments_overduerecheck ORDER BY item_id
    LIMIT %(size)s FOR UPDATE SKIP LOCKED
)
RETURNING item_id
"""

# A new episode gets a new date: clear it where the item was cancelled or its window moved to
# today or later. (Done, waived and before-go-live items keep theirs: the model's rule.)
_CLEAR_EPISODES = """
UPDATE treatments_monitoringitem SET overdue_since = NULL
WHERE id = ANY(%(ids)s) AND overdue_since IS NOT NULL
  AND (status = 'cancelled' OR (status IN ('scheduled', 'booked') AND window_closes_on >= %(today)s))
"""

# The active alerts of rechecked items that are no longer overdue, with the reason in words.
_RESOLVE = """
UPDATE treatments_alert a SET
    status = 'resolved', resolved_at = %(at)s, resolved_automatically = true,
    resolution_note = CASE
        WHEN m.status IN ('done_in_window', 'done_late')
            THEN 'Closed automatically: result recorded.'
        WHEN m.status = 'waived' THEN 'Closed automatically: check waived.'
        WHEN m.status = 'cancelled' THEN 'Closed automatically: the check is no longer due.'
        WHEN m.status = 'before_go_live'
            THEN 'Closed automatically: due before the clinic''s go-live date.'
        ELSE 'Closed automatically: the window was moved and is open again.' END
FROM treatments_monitoringitem m
WHERE m.id = ANY(%(ids)s)
  AND a.condition_key = 'overdue:item:' || m.id
  AND a.status IN ('open', 'acknowledged', 'snoozed')
  AND NOT (m.status IN ('scheduled', 'booked') AND m.window_closes_on < %(today)s)
"""

# Rechecked items still overdue and flagged: their alert stands again (raised, or reopened if
# it was resolved automatically). An unflagged one is a newly overdue item: _FLAG_CHUNK's.
_REFLAG_HEAD = """
WITH marked AS (
    SELECT m.id, m.patient_id, m.investigation, m.due_on, m.window_closes_on,
           m.explanation, m.merged_why, m.source
    FROM treatments_monitoringitem m
    WHERE m.id = ANY(%(ids)s) AND m.status IN ('scheduled', 'booked')
      AND m.window_closes_on < %(today)s AND m.overdue_since IS NOT NULL
)"""
_REFLAG = _REFLAG_HEAD + _RAISE


ACTION = "Book it or record the result; if it is not needed, waive it with a reason."


@dataclass(frozen=True)
class Chunk:
    """What one chunk did."""

    claimed: int = 0  # items whose overdue_since this chunk set
    created: int = 0
    reopened: int = 0
    resolved: int = 0
    rechecked: int = 0  # recheck rows taken

    @property
    def empty(self) -> bool:
        return not (self.claimed or self.rechecked)


def _parameters(today: date, at: datetime, size: int) -> dict[str, Any]:
    codes = list(INVESTIGATIONS)
    return {
        "today": today,
        "at": at,
        "size": size,
        "action": ACTION,
        "codes": codes,
        "names": [INVESTIGATIONS[code].name for code in codes],
    }


def _lease() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, true)",
            [f"{CHUNK_LEASE_SECONDS}s"],
        )


def _counts(sql: str, parameters: dict[str, Any]) -> tuple[int, int, int]:
    """Run one of the raising statements inside the caller's chunk transaction; its counts
    (items marked, alerts created, alerts reopened)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        marked, created, reopened = cursor.fetchone()
    return marked, created, reopened


def flag_chunk(*, today: date, at: datetime, size: int) -> Chunk:
    """Claim up to `size` newly overdue items, stamp them and raise their alerts (one
    transaction, one statement)."""
    with transaction.atomic():
        _lease()
        claimed, created, reopened = _counts(_FLAG_CHUNK, _parameters(today, at, size))
    return Chunk(claimed=claimed, created=created, reopened=reopened)


def recheck_chunk(*, today: date, at: datetime, size: int) -> Chunk:
    """Take up to `size` recheck rows and put their items' overdue alerts right."""
    parameters = _parameters(today, at, size)
    with transaction.atomic():
        _lease()
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_RECHECKS, parameters)
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return Chunk()
            parameters["ids"] = ids
            # Cleared before resolving, so the resolution does not put the item back on the
            # list (the alert trigger re-queues only flagged open items).
            cursor.execute(_CLEAR_EPISODES, parameters)
            cursor.execute(_RESOLVE, parameters)
            resolved = cursor.rowcount
        _, created, reopened = _counts(_REFLAG, parameters)
    return Chunk(created=created, reopened=reopened, resolved=resolved, rechecked=len(ids))
