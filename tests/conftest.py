"""The cast of the test suite.

Team A: a neurologist (Dr Ada Reyes), an MS nurse (Nurse Sam Kim) and a physiotherapist (Theo
Park) who all care for patient Alice Archer. Team B: a neurologist (Dr Bea Novak) and her patient
Bob Baker; nobody on team B may ever see Alice, and nobody on team A may see Bob. A clinic admin
(Ann Admin) manages the clinic and sees no patients.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from clinic.accounts.models import CareTeam, Discipline, Role, User
from patients.models import Patient
from tests.factories import TEST_PASSWORD, CareTeamFactory, PatientFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls there
# unless told this is a test (the ORM is only used from the test, not from async code).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_items = [item for item in items if "page" in getattr(item, "fixturenames", ())]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if CHROMIUM or not browser_items:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(
            "Chromium is missing; on CI a missing browser is a failure, not a skip."
        )
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in browser_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--disable-dev-shm-usage", "--disable-background-networking"],
    }


class _Tee(io.TextIOBase):
    """A log stream that also keeps what was written to it."""

    def __init__(self, stream: TextIO, kept: list[str]) -> None:
        self.stream, self.kept = stream, kept

    def write(self, text: str) -> int:
        self.kept.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


class LogWatch:
    """Everything the test run writes to a log: the app's own log output exactly as its
    handlers format it (tracebacks included), Python's last-resort handler, PostgreSQL's log,
    and the output of any server a test starts (gunicorn, Celery workers)."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.files: dict[Path, int] = {}

    def add_file(self, path: Path) -> None:
        """Check this file too, from its current end (what this run appends)."""
        self.files.setdefault(path, path.stat().st_size if path.exists() else 0)

    def text(self) -> str:
        parts = ["".join(self.written)]
        for path, start in self.files.items():
            if path.exists():
                with path.open("rb") as log:
                    log.seek(start)
                    parts.append(log.read().decode("utf-8", errors="replace"))
        return "\n".join(parts)


_identifiers: set[str] = set()


def _remember_identifiers(sender: type, instance: Patient, **kwargs: object) -> None:
    _identifiers.update(
        value
        for value in (
            instance.mrn,
            instance.full_name,
            instance.email,
            instance.phone,
            str(instance.external_id),
            instance.external_id.hex,
        )
        if value
    )


_log_watch = LogWatch()


def _loggers() -> list[logging.Logger]:
    known = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger(), *(lg for lg in known if isinstance(lg, logging.Logger))]


def _own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers the project configured, not the ones pytest adds to capture logs."""
    return [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]


def _loggers_printing_raw() -> list[str]:
    """Loggers that stop propagation with no handler of their own: outside pytest (which
    attaches its capture to them) Python's last-resort handler prints their records unfiltered."""
    return sorted(lg.name for lg in _loggers() if not lg.propagate and not _own_handlers(lg))


@pytest.fixture(autouse=True, scope="session")
def _no_patient_identifiers_in_logs() -> Iterator[None]:
    """Patient data is never written to logs: everything the whole run writes to any log (see
    LogWatch) is checked against every patient created in it (MRN, full name, email, phone and
    the UUID that names the patient in URLs)."""
    from django.conf import settings
    from django.db.models.signals import post_save

    streams = {
        handler: handler.stream
        for logger in _loggers()
        for handler in _own_handlers(logger)
        if isinstance(handler, logging.StreamHandler)
    }
    assert streams, "settings.LOGGING writes through no stream handler"
    for handler, stream in streams.items():
        handler.setStream(_Tee(stream, _log_watch.written))  # type: ignore[arg-type]
    _log_watch.add_file(Path(settings.VAR_DIR) / "postgres.log")
    post_save.connect(_remember_identifiers, sender=Patient, dispatch_uid="log-guard")
    yield
    post_save.disconnect(dispatch_uid="log-guard", sender=Patient)
    for handler, stream in streams.items():
        handler.setStream(stream)
    assert not _loggers_printing_raw(), f"unfiltered loggers: {_loggers_printing_raw()}"
    if not _identifiers:
        return
    pattern = re.compile(
        "|".join(rf"\b{re.escape(i)}\b" for i in sorted(_identifiers, key=len, reverse=True))
    )
    leaks = sorted(set(pattern.findall(_log_watch.text())))
    assert not leaks, f"patient identifiers written to the logs: {len(leaks)} distinct values"


@pytest.fixture
def log_output() -> Callable[[], str]:
    """What the app's log handlers have written since the test began, as they wrote it."""
    start = len(_log_watch.written)
    return lambda: "".join(_log_watch.written[start:])


@pytest.fixture
def log_watch() -> Callable[[Path], None]:
    """Give a log file (a server's output) to the run's check for patient data."""
    return _log_watch.add_file


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Let transactional tests flush the append-only audit table of the test database only."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            f"ALTER DATABASE {connection.settings_dict['NAME']} SET myelin.allow_audit_truncate = 'on'"
        )
    connection.close()  # new connections pick the setting up


@pytest.fixture(autouse=True)
def _audit_checkpoints_of_this_test(settings: Any, tmp_path: Any) -> None:
    """`audit verify` and the checkpoint task use a file of this test's own, never var/'s."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"


@pytest.fixture(autouse=True, scope="session")
def _quality_figures_worked_out_each_time() -> None:
    # Tests change the data between two looks at the dashboard; its cache has a test of its own.
    from django.conf import settings

    settings.QUALITY_CACHE_SECONDS = 0


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    # The real hasher is deliberately slow (about 0.5 s a password); tests do not need that.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline() -> Iterator[None]:
    """Tasks queued with delay_on_commit run in-process when the test's transaction commits.
    Tests about Celery itself start a real worker on real Redis instead."""
    from clinic.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def team_a(db: None) -> CareTeam:
    return CareTeamFactory(name="Team A")


@pytest.fixture
def team_b(db: None) -> CareTeam:
    return CareTeamFactory(name="Team B")


@pytest.fixture
def neurologist(team_a: CareTeam) -> User:
    return UserFactory(
        username="dr.reyes",
        first_name="Ada",
        last_name="Reyes",
        role=Role.NEUROLOGIST,
        teams=[team_a],
    )


@pytest.fixture
def nurse(team_a: CareTeam) -> User:
    return UserFactory(
        username="nurse.kim", first_name="Sam", last_name="Kim", role=Role.NURSE, teams=[team_a]
    )


@pytest.fixture
def therapist(team_a: CareTeam) -> User:
    return UserFactory(
        username="physio.park",
        first_name="Theo",
        last_name="Park",
        role=Role.THERAPIST,
        discipline=Discipline.PHYSIOTHERAPY,
        teams=[team_a],
    )


@pytest.fixture
def other_neurologist(team_b: CareTeam) -> User:
    return UserFactory(
        username="dr.novak",
        first_name="Bea",
        last_name="Novak",
        role=Role.NEUROLOGIST,
        teams=[team_b],
    )


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(
        username="admin.ann", first_name="Ann", last_name="Admin", role=Role.ADMIN, is_staff=True
    )


@pytest.fixture
def patient_a(team_a: CareTeam, neurologist: User, nurse: User) -> Patient:
    return PatientFactory(
        mrn="AAA00001",
        given_name="Alice",
        family_name="Archer",
        care_team=team_a,
        neurologist=neurologist,
        nurse=nurse,
    )


@pytest.fixture
def patient_b(team_b: CareTeam, other_neurologist: User) -> Patient:
    return PatientFactory(
        mrn="BBB00001",
        given_name="Bob",
        family_name="Baker",
        care_team=team_b,
        neurologist=other_neurologist,
    )


@pytest.fixture
def cast(
    neurologist: User, nurse: User, therapist: User, other_neurologist: User, admin_user: User
) -> dict[str, User]:
    return {
        "neurologist": neurologist,
        "nurse": nurse,
        "therapist": therapist,
        "other_neurologist": other_neurologist,
        "admin": admin_user,
    }


def sign_in(client: Any, user: User) -> Any:
    """Sign in through the real login form (session clock, audit entry and all)."""
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302, "sign-in failed"
    return client


@pytest.fixture
def signed_in(client: Any) -> Any:
    def _sign_in(user: User) -> Any:
        return sign_in(client, user)

    return _sign_in
