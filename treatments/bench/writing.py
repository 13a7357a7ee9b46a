"""Writing generated rows fast: reserved ids and PostgreSQL COPY, or bulk_create for models
with database-side work."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from treatments.bench.shape import BATCH, Counts

# --- writing ----------------------------------------------------------------------------------


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    if n == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
            " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [model._meta.db_table, model._meta.db_table, n],
        )
        last = cursor.fetchone()[0]
    return list(range(last - n + 1, last + 1))


def copy_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], counts: Counts) -> None:
    """COPY rows (dicts by attname) into the model's table; missing fields take their default."""
    if not rows:
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default() or not f.null:
            default = f.get_default()
            defaults[f.attname] = default
        else:
            defaults[f.attname] = None
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for start in range(0, len(rows), BATCH):
            with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
                for row in rows[start : start + BATCH]:
                    values = []
                    for f in fields:
                        value = row.get(f.attname, defaults[f.attname])
                        if f.attname in json_fields:
                            value = Jsonb(value)
                        values.append(value)
                    copy.write_row(values)
    counts.add(model._meta.db_table, len(rows))


def bulk_rows(model: type[models.Model], rows: list[dict[str, Any]], counts: Counts) -> list[int]:
    """Reserve ids, then COPY; returns the ids in row order."""
    ids = reserve_ids(model, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    copy_rows(model, rows, counts)
    return ids


# Patients generated (and their rows held in memory) at a time.
PATIENT_BATCH = 2000


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Say how long a phase of the generation took (on standard error, for `make bench`)."""
    started = time.monotonic()
    yield
    print(f"[generate] {name}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
