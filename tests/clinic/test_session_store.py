"""Sessions live in PostgreSQL and are read through Redis; a Redis outage never breaks pages
and never leaves an ended session half-alive."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from redis.exceptions import RedisError

from clinic.accounts import services
from tests.factories import TEST_PASSWORD

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def sign_in(user) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return client


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


def test_ending_sessions_while_redis_is_unreachable_fails_whole(neurologist, settings):
    """The cached copy goes first: if it cannot, the row stays too, so the sign-out can be
    retried and no stale copy outlives its row."""
    sign_in(neurologist)
    settings.CACHES = UNREACHABLE_REDIS
    with pytest.raises(RedisError):
        services.end_all_sessions(user=neurologist)
    assert Session.objects.count() == 1


def test_an_ended_session_is_gone_from_the_cache_too(neurologist):
    client = sign_in(neurologist)
    services.end_all_sessions(user=neurologist)
    assert Session.objects.count() == 0
    assert client.get("/patients/").status_code == 302  # to the sign-in page
