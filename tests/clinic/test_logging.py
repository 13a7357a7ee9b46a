"""Patient data never reaches a log: not the app's, not gunicorn's, not PostgreSQL's.

Every run of the suite also checks everything written to those logs against every patient it
created (tests/conftest.py); these tests put patient data where a log would pick it up."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from clinic.devstack import GUNICORN_LOG_OPTIONS, POSTGRES_LOG_OPTIONS, free_port, stored_ports
from clinic.logs import RedactingFilter
from tests.factories import PatientFactory

ROOT = Path(__file__).resolve().parents[2]
DETAIL_ROUTE = "/patients/<uuid:external_id>/"


def redacted(name: str, msg: str, *args: object, exc: BaseException | None = None) -> str:
    """A record as the app's handler writes it."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)
    RedactingFilter().filter(record)
    return logging.Formatter("%(message)s").format(record)


# --- the app's own log ------------------------------------------------------------------------


@pytest.mark.urls("tests.clinic.test_errors")
def test_a_server_error_on_a_patient_page_logs_its_route_and_traceback_but_no_patient_data(
    signed_in, neurologist, patient_a, log_output: Callable[[], str]
):
    client = signed_in(neurologist)
    client.raise_request_exception = False

    assert client.get(f"/explode/{patient_a.external_id}/").status_code == 500

    logged = log_output()
    assert "Internal Server Error: /explode/<uuid:external_id>/" in logged
    assert 'raise RuntimeError(f"boom while showing' in logged  # the line that failed...
    assert "RuntimeError (message withheld" in logged  # ...but not what it said
    for identifier in (str(patient_a.external_id), patient_a.mrn, "Archer"):
        assert identifier not in logged


def test_a_page_that_is_not_found_is_logged_without_its_path(
    signed_in, neurologist, log_output: Callable[[], str]
):
    signed_in(neurologist).get("/patients/AAA00001-Alice-Archer/")

    assert "Not Found: <path matching no route>" in log_output()
    assert "Archer" not in log_output()


def test_the_development_server_logs_the_route_not_the_path_or_the_query():
    line = redacted(
        "django.server",
        '"%s" %s %s',
        f"GET /patients/{uuid.uuid4()}/?q=Alice+Archer HTTP/1.1",
        "200",
        "5120",
    )

    assert line == f'"GET {DETAIL_ROUTE} HTTP/1.1" 200 5120'


def test_a_failed_task_is_logged_with_its_exception_type_only():
    """Celery's own line for a failed task quotes the exception it raised."""
    error = IntegrityError("duplicate key value\nDETAIL:  Key (mrn)=(AAA00001) already exists.")
    line = redacted(
        "celery.app.trace",
        "Task %(name)s[%(id)s] %(description)s: %(exc)s",
        {"name": "treatments.evaluate_result", "id": str(uuid.uuid4()), "description": "raised"}
        | {"exc": error},
    )

    assert line == (
        "Task treatments.evaluate_result[<id>] raised: "
        "django.db.utils.IntegrityError (message withheld: it may quote patient data)"
    )


def test_connection_errors_keep_their_message_for_whoever_is_on_call():
    line = redacted("myelin.celery", "Queueing failed", exc=ConnectionRefusedError(111, "refused"))

    assert "ConnectionRefusedError: [Errno 111] refused" in line


def test_sql_is_never_logged_with_its_values_even_at_debug_level():
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.INFO
    loggers: Any = settings.LOGGING["loggers"]
    assert loggers["django.db.backends"]["level"] == "INFO"


# --- gunicorn -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_gunicorn_logs_routes_without_patient_ids_or_queries(
    signed_in, neurologist, patient_a, tmp_path: Path, log_watch: Callable[[Path], None]
):
    """The web server as `make run` and the Dockerfile start it, on the test database."""
    cookie = signed_in(neurologist).cookies["sessionid"].value
    base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
    port = free_port()
    log = tmp_path / "gunicorn.log"
    log_watch(log)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                *("clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"),
                "--no-control-socket",
                *GUNICORN_LOG_OPTIONS,
            ],
            env={**os.environ, "DATABASE_URL": f"{base}/{connection.settings_dict['NAME']}"},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def get(path: str) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Cookie": f"sessionid={cookie}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    try:
        deadline = time.monotonic() + 30
        while "Booting worker" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert get(f"/patients/{patient_a.external_id}/") == 200
        assert get("/patients/?q=Alice+Archer") == 200
        assert get(f"/patients/{patient_a.mrn}-Archer/") == 404
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)

    written = log.read_text()
    assert f'"GET {DETAIL_ROUTE}" 200' in written
    assert '"GET /patients/" 200' in written
    assert '"GET <path matching no route>" 404' in written
    for identifier in (str(patient_a.external_id), patient_a.mrn, "Alice", "Archer"):
        assert identifier not in written


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_postgresql_runs_with_the_log_settings_that_keep_patient_data_out():
    with connection.cursor() as cursor:
        for option in POSTGRES_LOG_OPTIONS:
            name, value = option.split("=")
            cursor.execute(f"SHOW {name}")
            assert cursor.fetchone()[0] == value, name


@pytest.mark.django_db
def test_a_failed_statement_leaves_no_patient_data_in_the_postgresql_log(patient_a):
    log = Path(settings.VAR_DIR) / "postgres.log"
    if stored_ports().get("postgres") != int(connection.settings_dict["PORT"]) or not log.exists():
        pytest.skip("PostgreSQL is not the project's own server; its log is elsewhere")
    start = log.stat().st_size

    with pytest.raises(IntegrityError), transaction.atomic():
        # The same MRN again: by default the server logs the whole INSERT, names and all.
        PatientFactory(mrn=patient_a.mrn, given_name="Zelda", family_name="Quixote")
    time.sleep(0.2)

    with log.open("rb") as server_log:
        server_log.seek(start)
        written = server_log.read().decode(errors="replace")
    for identifier in ("Quixote", "Zelda", patient_a.mrn):
        assert identifier not in written
