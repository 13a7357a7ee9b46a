"""Health of the moving parts: database, Redis, Celery worker, Celery beat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.models import Heartbeat


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    last_seen_at: datetime | None = None


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return Check("database", False, f"unreachable ({type(exc).__name__})")
    return Check("database", True, "PostgreSQL answers")


def check_redis() -> Check:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError as exc:
        return Check("redis", False, f"unreachable ({type(exc).__name__})")
    return Check("redis", True, "Redis answers")


def beat_stale_after() -> timedelta:
    # Three missed heartbeats mean beat (or every worker) has stopped.
    return timedelta(seconds=3 * settings.HEARTBEAT_INTERVAL_SECONDS)


def check_beat() -> Check:
    beat = Heartbeat.objects.filter(name="beat").first()
    if beat is None:
        return Check("beat", False, "no heartbeat recorded yet")
    age = timezone.now() - beat.at
    ok = age <= beat_stale_after()
    detail = f"last heartbeat {int(age.total_seconds())} s ago" + ("" if ok else " (stale)")
    return Check("beat", ok, detail, beat.at)


def check_workers(timeout: float = 1.0) -> Check:
    from clinic.celery import app

    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as exc:
        return Check("worker", False, f"cannot ask workers ({type(exc).__name__})")
    if not replies:
        return Check("worker", False, "no worker answered a ping")
    names = sorted(name for reply in replies for name in reply)
    return Check("worker", True, f"{len(names)} worker(s) answered: {', '.join(names)}")


def all_checks(*, ping_workers: bool) -> list[Check]:
    checks = [check_database(), check_redis()]
    database_ok = checks[0].ok
    checks.append(check_beat() if database_ok else Check("beat", False, "database unreachable"))
    if ping_workers:
        checks.append(
            check_workers() if checks[1].ok else Check("worker", False, "Redis unreachable")
        )
    return checks
