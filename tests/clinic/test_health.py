"""The status page and /healthz tell a healthy stack from a stale beat or a dead worker.

The worker test is about Celery itself, so it uses a real worker on the real Redis that
`make test` started, not eager mode.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from clinic.celery import app
from clinic.models import Heartbeat
from clinic.tasks import heartbeat


def test_healthz_fails_when_beat_has_never_run(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"ok": False, "detail": "no heartbeat recorded yet"}
    assert response.json()["checks"]["database"]["ok"] is True
    assert response.json()["checks"]["redis"]["ok"] is True


def test_a_stale_beat_shows_as_a_failure(client, db, settings):
    Heartbeat.objects.create(
        name="beat", at=timezone.now() - timedelta(seconds=4 * settings.HEARTBEAT_INTERVAL_SECONDS)
    )
    body = client.get("/healthz").json()
    assert body["checks"]["beat"]["ok"] is False
    assert "stale" in body["checks"]["beat"]["detail"]


def test_liveness_only_needs_the_database(client, db):
    assert client.get("/healthz/live").json() == {"status": "ok"}


def test_healthz_reports_redis_down_without_breaking(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    body = client.get("/healthz").json()
    assert body["checks"]["redis"]["ok"] is False
    assert body["status"] == "fail"


@pytest.fixture
def real_worker():
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_heartbeat_through_a_real_worker_makes_the_status_page_green(
    real_worker, signed_in, admin_user
):
    heartbeat.delay()  # fire and forget, as beat does
    deadline = timezone.now() + timedelta(seconds=20)
    while not Heartbeat.objects.filter(name="beat").exists() and timezone.now() < deadline:
        pass
    assert Heartbeat.objects.filter(name="beat").exists(), "the worker did not record the heartbeat"
    page = signed_in(admin_user).get("/system/status/").content.decode()
    assert "All parts are working." in page
