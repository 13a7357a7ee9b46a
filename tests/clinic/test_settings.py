"""Bad configuration stops start-up with a message that names the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import database_from_url, env_bool, env_int, env_port, env_str

ROOT = Path(__file__).resolve().parents[2]


def start_django(
    code: str = "import django; django.setup()", **env: str
) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter, as a server would at start-up, then run code.
    No MYELIN_ or DJANGO_ variable is set unless given: what `make run` serves with."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MYELIN_", "DJANGO_"))}
    clean.update({"MYELIN_VAR_DIR": "/nonexistent-var", "DATABASE_URL": "postgres://u@h:5432/d"})
    clean["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_malformed_port_names_the_setting(monkeypatch):
    monkeypatch.setenv("MYELIN_EMAIL_PORT", "25a")
    with pytest.raises(ImproperlyConfigured, match="MYELIN_EMAIL_PORT must be a whole number"):
        env_port("MYELIN_EMAIL_PORT", 25)


def test_a_port_out_of_range_names_the_setting(monkeypatch):
    monkeypatch.setenv("SOME_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="SOME_PORT must be at most 65535"):
        env_port("SOME_PORT", 1)


def test_a_boolean_must_be_a_boolean(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG", default=False)


def test_a_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("API_KEY_FILE", str(secret))
    assert env_str("API_KEY") == "s3cret"


def test_an_unreadable_secret_file_names_the_setting(monkeypatch):
    monkeypatch.setenv("API_KEY_FILE", "/does/not/exist")
    with pytest.raises(ImproperlyConfigured, match="API_KEY_FILE"):
        env_str("API_KEY")


def test_minimum_is_enforced(monkeypatch):
    monkeypatch.setenv("IDLE", "0")
    with pytest.raises(ImproperlyConfigured, match="IDLE must be at least 1"):
        env_int("IDLE", 15, minimum=1)


def test_database_url_is_parsed():
    parsed = database_from_url("DATABASE_URL", "postgres://app:p%40ss@db.internal:6543/myelin")
    assert (parsed["USER"], parsed["PASSWORD"], parsed["HOST"], parsed["PORT"], parsed["NAME"]) == (
        "app",
        "p@ss",
        "db.internal",
        "6543",
        "myelin",
    )


def test_a_database_url_with_a_bad_port_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL has a malformed port"):
        database_from_url("DATABASE_URL", "postgres://app@db:port/myelin")


def test_production_without_a_secret_key_refuses_to_start():
    result = start_django(MYELIN_MODE="production", DJANGO_ALLOWED_HOSTS="myelin.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_refuses_the_demo_relaxations():
    result = start_django(
        MYELIN_MODE="production",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="myelin.example.org",
        REDIS_URL="redis://r:6379/0",
        MYELIN_DEMO_MODE="true",
    )
    assert result.returncode != 0
    assert "MYELIN_DEMO_MODE cannot be enabled" in result.stderr


# An anonymous visitor asks for a page that does not exist (no database needed on that path).
ANONYMOUS_404 = """
import django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/no-such-page/")
body = response.content.decode()
print(settings.DEBUG, response.status_code, "topbar" in body, "healthz/live" in body)
"""


def test_the_demo_serves_real_error_pages_without_debug():
    result = start_django(ANONYMOUS_404)
    assert result.returncode == 0, result.stderr
    # DEBUG off; the app's 404 page; no list of routes.
    assert result.stdout.split() == ["False", "404", "True", "False"]


def test_debug_pages_only_when_a_developer_asks_for_them():
    result = start_django(ANONYMOUS_404, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    # Django's technical 404 lists every route (the health checks' included): why it is not the
    # default.
    assert result.stdout.split() == ["True", "404", "False", "True"]


def test_production_refuses_debug_pages():
    result = start_django(
        MYELIN_MODE="production",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="myelin.example.org",
        REDIS_URL="redis://r:6379/0",
        DJANGO_DEBUG="true",
    )
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be false" in result.stderr


def test_a_malformed_port_stops_start_up():
    result = start_django(MYELIN_EMAIL_PORT="twenty-five")
    assert result.returncode != 0
    assert "MYELIN_EMAIL_PORT must be a whole number" in result.stderr


def test_devstack_refuses_a_malformed_web_port():
    result = subprocess.run(
        [sys.executable, "-m", "clinic.devstack", "run"],
        env={**os.environ, "MYELIN_WEB_PORT": "80x"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert "MYELIN_WEB_PORT must be a port number" in result.stderr


def test_production_settings_pass_the_deploy_checks():
    env = {
        "MYELIN_MODE": "production",
        "DJANGO_SECRET_KEY": "k" * 30 + "Zq8!vR2#mW5@" + "p" * 20,
        "DJANGO_ALLOWED_HOSTS": "myelin.example.org",
        "REDIS_URL": "redis://r:6379/0",
        "MYELIN_DEMO_MODE": "false",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MYELIN_", "DJANGO_"))}
    clean.update(
        {"MYELIN_VAR_DIR": "/nonexistent-var", "DATABASE_URL": "postgres://u@h:5432/d", **env}
    )
    clean["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
