"""The audit trail and the history tables cannot be changed in place: no session setting switches
their triggers off, and the running app's database role may only read and append to them.

The tests run as the tables' owner (pytest-django creates the test database); the app's role is
taken with SET LOCAL ROLE inside a savepoint, so a refused statement also ends the role switch.
"""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pghistory
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from clinic.audit.models import AccessEvent, Action, Category
from clinic.audit.protection import append_only_tables, gaps, protect
from clinic.audit.services import record, verify_chain
from patients.models import Patient

APP_ROLE = settings.APP_DB_ROLE


def _refused(
    sql: str,
    params: list[Any] | None = None,
    *,
    role: str | None = APP_ROLE,
    first: tuple[str, ...] = (),
) -> str:
    """Run one statement (as the app's role unless role=None, after the `first` statements) and
    return why it was refused."""

    def attempt() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if role:
                cursor.execute(f"SET LOCAL ROLE {role}")
            for statement in first:
                cursor.execute(statement)
            cursor.execute(sql, params)

    with pytest.raises(DatabaseError) as refusal:
        attempt()
    return str(refusal.value)


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (user,) = cursor.fetchone()
    return str(user)


@pytest.fixture
def event(neurologist, patient_a) -> AccessEvent:
    return record(
        user=neurologist, patient=patient_a, action=Action.VIEW, category=Category.CLINICAL
    )


@pytest.fixture
def patient_history(patient_a: Patient) -> Any:
    """A change to a tracked model, made inside a pghistory context: one history row, one
    context row."""
    with pghistory.context(job="test-edit"):
        patient_a.phone = "01632 960001"
        patient_a.save()
    return patient_a.events.order_by("-pgh_id").first()  # type: ignore[attr-defined]


def test_the_app_role_may_not_change_delete_or_empty_the_audit_trail(event):
    for sql in (
        "UPDATE audit_accessevent SET detail = 'edited' WHERE id = %s",
        "DELETE FROM audit_accessevent WHERE id = %s",
    ):
        assert "permission denied" in _refused(sql, [event.id])
    assert "permission denied" in _refused("TRUNCATE audit_accessevent")
    # Each refusal ended its savepoint, and the role switch with it.
    assert _current_user() != APP_ROLE
    assert AccessEvent.objects.get(pk=event.pk).detail == event.detail


def test_the_app_role_cannot_switch_the_append_only_trigger_off(event):
    for sql in (
        "ALTER TABLE audit_accessevent DISABLE TRIGGER myelin_append_only",
        "ALTER TABLE audit_accessevent DISABLE TRIGGER ALL",
        "DROP TRIGGER myelin_append_only ON audit_accessevent",
        "ALTER TABLE audit_accessevent OWNER TO " + APP_ROLE,
        "CREATE OR REPLACE FUNCTION myelin_refuse_change() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    ):
        # Only the owner may alter the table or the function (and the app may not create in the
        # schema at all).
        assert re.search("must be owner|permission denied", _refused(sql)), sql
    # Skipping every trigger of the session is for superusers only.
    assert "permission denied" in _refused("SET session_replication_role = replica")


def test_no_session_setting_switches_the_trigger_off_even_for_the_owner(event):
    """pgtrigger's own triggers skip themselves when the session's pgtrigger.ignore names them;
    this one reads no setting at all. Shown as the owner, who holds every privilege."""
    ignore_all = (
        "SET LOCAL pgtrigger.ignore = "
        "'{myelin_append_only,myelin_no_truncate,append_only,no_truncate,"
        "pgtrigger_append_only_718eb,pgtrigger_no_truncate_f0e45}'",
    )
    for sql in (
        "UPDATE audit_accessevent SET detail = 'edited' WHERE id = %s",
        "DELETE FROM audit_accessevent WHERE id = %s",
    ):
        refusal = _refused(sql, [event.id], role=None, first=ignore_all)
        assert "audit_accessevent is append-only" in refusal
        assert "permission denied" in _refused(sql, [event.id], first=ignore_all)


def test_truncation_needs_the_databases_own_mark_not_a_session_setting(event):
    """The test database is marked (by its owner, in the catalog) so that transactional tests can
    be flushed. Without that mark, setting the same name in a session does not let TRUNCATE by."""
    name = connection.settings_dict["NAME"]
    with transaction.atomic(), connection.cursor() as cursor:
        # Rolled back with this block: the mark stays for the rest of the run.
        cursor.execute(f"ALTER DATABASE {name} RESET myelin.allow_audit_truncate")
        message = _refused(
            "TRUNCATE audit_accessevent",
            role=None,
            first=(
                # Deferred foreign-key checks must run first: TRUNCATE refuses pending ones.
                "SET CONSTRAINTS ALL IMMEDIATE",
                "SET LOCAL myelin.allow_audit_truncate = 'on'",
            ),
        )
        transaction.set_rollback(True)
    assert "append-only: TRUNCATE refused" in message


def test_history_rows_are_append_only_for_the_app_and_for_the_owner(patient_history):
    table = patient_history._meta.db_table
    for sql in (
        # The table name comes from the event model, not from input.
        f"UPDATE {table} SET phone = '' WHERE pgh_id = %s",  # noqa: S608
        f"DELETE FROM {table} WHERE pgh_id = %s",  # noqa: S608
    ):
        assert "permission denied" in _refused(sql, [patient_history.pgh_id])
        assert "is append-only" in _refused(sql, [patient_history.pgh_id], role=None)
    assert "permission denied" in _refused(f"TRUNCATE {table}")


def test_the_history_context_can_be_updated_by_pghistory_but_not_deleted(patient_history):
    context_id = patient_history.pgh_context_id
    assert context_id is not None
    sql = "DELETE FROM pghistory_context WHERE id = %s"
    assert "permission denied" in _refused(sql, [context_id])
    assert "pghistory_context is append-only: DELETE refused" in _refused(
        sql, [context_id], role=None
    )


def test_every_history_table_is_append_only_and_the_app_may_only_read_and_add(db):
    tables = append_only_tables()
    assert {"audit_accessevent", "patients_patientevent", "treatments_alertevent"} <= set(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_agg(t.tgname::text ORDER BY t.tgname) FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = ANY(%s)"
            " AND t.tgname LIKE 'myelin%%' GROUP BY c.relname",
            [tables],
        )
        triggers = dict(cursor.fetchall())
        cursor.execute(
            "SELECT t, has_table_privilege(%s, t, 'SELECT'), has_table_privilege(%s, t, 'INSERT'),"
            " has_table_privilege(%s, t, 'UPDATE'), has_table_privilege(%s, t, 'DELETE'),"
            " has_table_privilege(%s, t, 'TRUNCATE') FROM unnest(%s::text[]) AS t",
            [APP_ROLE] * 5 + [tables],
        )
        privileges = {row[0]: row[1:] for row in cursor.fetchall()}
    for table in tables:
        assert triggers.get(table) == ["myelin_append_only", "myelin_no_truncate"], table
        assert privileges[table] == (True, True, False, False, False), table


def test_the_app_role_does_the_apps_daily_work(signed_in, neurologist, patient_a):
    """Everything the app does on the trail and the history (append access records through
    audit_append, write history through pghistory's triggers, read both) works as its role."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")  # until this test's transaction ends
    client = signed_in(neurologist)
    assert client.get(patient_a.get_absolute_url()).status_code == 200
    with pghistory.context(job="test-edit"):
        Patient.objects.filter(pk=patient_a.pk).update(phone="01632 960002")
    assert patient_a.events.count() >= 1  # type: ignore[attr-defined]
    assert AccessEvent.objects.filter(patient=patient_a, action=Action.VIEW).exists()
    assert verify_chain() == []
    assert _current_user() == APP_ROLE


def test_migrate_refuses_to_make_a_superuser_the_apps_role(db, settings):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE myelin_test_superuser SUPERUSER")  # rolled back with the test
    settings.APP_DB_ROLE = "myelin_test_superuser"
    with pytest.raises(ImproperlyConfigured, match="superuser"):
        protect()


def test_migrate_refuses_its_own_role_as_the_apps_role(db, settings):
    settings.APP_DB_ROLE = _current_user()
    with pytest.raises(ImproperlyConfigured, match="separate one"):
        protect()


def test_verify_reports_switched_off_protection_and_migrate_restores_it(event):
    with connection.cursor() as cursor:
        # What only an owner can do (rolled back with the test).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending FK checks
        cursor.execute("ALTER TABLE patients_patientevent DISABLE TRIGGER myelin_append_only")
        cursor.execute("DROP TRIGGER myelin_no_truncate ON audit_accessevent")
        cursor.execute(f"GRANT UPDATE ON audit_accessevent TO {APP_ROLE}")
    assert gaps() == [
        "audit_accessevent: the trigger myelin_no_truncate is missing",
        "patients_patientevent: the trigger myelin_append_only is switched off",
        f"audit_accessevent: {APP_ROLE} may UPDATE",
    ]
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stdout=StringIO(), stderr=err)
    assert "Protection: patients_patientevent: the trigger myelin_append_only is switched off" in (
        err.getvalue()
    )
    assert "its protection is off" in err.getvalue()

    protect()  # what every `migrate` runs at its end

    assert gaps() == []


def test_migrate_gives_the_app_role_its_password_without_logging_it(db, settings):
    settings.APP_DB_PASSWORD = "app-role-password-from-a-secret"
    with CaptureQueriesContext(connection) as queries:  # what DEBUG would log
        protect()
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(
            "SELECT rolcanlogin, rolpassword LIKE 'SCRAM-SHA-256$%%' FROM pg_authid"
            " WHERE rolname = %s",
            [APP_ROLE],
        )
        assert cursor.fetchone() == (True, True)
    assert not [q for q in queries.captured_queries if settings.APP_DB_PASSWORD in q["sql"]]
