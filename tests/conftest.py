"""The cast of the test suite.

Team A: a neurologist (Dr Ada Reyes), an MS nurse (Nurse Sam Kim) and a physiotherapist (Theo
Park) who all care for patient Alice Archer. Team B: a neurologist (Dr Bea Novak) and her patient
Bob Baker; nobody on team B may ever see Alice, and nobody on team A may see Bob. A clinic admin
(Ann Admin) manages the clinic and sees no patients.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

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


class _Remember(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:
            self.lines.append(str(record.msg))


_identifiers: set[str] = set()


def _remember_identifiers(sender: type, instance: Patient, **kwargs: object) -> None:
    _identifiers.update(
        value
        for value in (instance.mrn, instance.full_name, instance.email, instance.phone)
        if value
    )


@pytest.fixture(autouse=True, scope="session")
def _no_patient_identifiers_in_logs() -> Iterator[None]:
    """Patient data is never written to logs: every log message of the whole run is checked
    against every patient created in it (MRN, full name, email, phone)."""
    from django.db.models.signals import post_save

    handler = _Remember()
    root = logging.getLogger()
    root.addHandler(handler)
    post_save.connect(_remember_identifiers, sender=Patient, dispatch_uid="log-guard")
    yield
    root.removeHandler(handler)
    post_save.disconnect(dispatch_uid="log-guard", sender=Patient)
    leaks = sorted(
        {
            ident
            for line in handler.lines
            for ident in _identifiers
            if re.search(rf"\b{re.escape(ident)}\b", line)
        }
    )
    assert not leaks, f"patient identifiers written to the logs: {len(leaks)} distinct values"


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
