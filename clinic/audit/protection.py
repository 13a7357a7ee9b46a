"""Who may change the audit trail and the history tables: nobody, in place.

Two layers, both set up by `manage.py migrate` (which runs as the tables' owner):

- Every append-only table (the access trail and each django-pghistory event table) carries the
  triggers of migration 0004, which refuse UPDATE, DELETE and TRUNCATE whatever the session has
  set. pghistory's context table may be updated (pghistory merges a request's metadata into its
  row) but not deleted from.
- The running app connects as its own role (MYELIN_APP_DB_ROLE, default `myelin_app`). It may
  read and write the clinical tables, but on the append-only tables it may only SELECT and
  INSERT, and since it owns nothing it cannot ALTER, DISABLE or DROP a trigger either.

A separate login role, not Django's `assume_role` option (SET ROLE on each connection): a
session that was switched with SET ROLE can switch back with RESET ROLE, to the owner.

The grants and triggers are (re)applied after every migrate, so a table added by a later
migration, a new tracked model's event table included, is covered without anyone remembering
to. Only what is missing is created, so a repeated run costs a catalog query and a few GRANTs.
"""

from __future__ import annotations

from typing import Any

import pghistory.models
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseError
from psycopg import sql

from clinic.audit.models import AccessEvent

# Row-level triggers: which operations each kind of protected table refuses.
APPEND_ONLY = "UPDATE OR DELETE"
KEEP_ROWS = "DELETE"
ROW_TRIGGER = {APPEND_ONLY: "myelin_append_only", KEEP_ROWS: "myelin_no_delete"}
TRUNCATE_TRIGGER = "myelin_no_truncate"
# What the app's role must not be granted on each kind.
REFUSED_TO_APP = {APPEND_ONLY: ("UPDATE", "DELETE", "TRUNCATE"), KEEP_ROWS: ("DELETE", "TRUNCATE")}


def append_only_tables() -> list[str]:
    """The access trail and every pghistory event table, found from the models so that a newly
    tracked model is protected as soon as its table exists."""
    events = [
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event)
        and model._meta.managed
        and not model._meta.proxy
    ]
    return sorted({AccessEvent._meta.db_table, *events})


def protected_tables() -> dict[str, str]:
    """Table name -> the row operations its trigger refuses."""
    tables = dict.fromkeys(append_only_tables(), APPEND_ONLY)
    tables[pghistory.models.Context._meta.db_table] = KEEP_ROWS
    return tables


def protect(*, using: str = "default") -> None:
    """Install the missing triggers and grant the app's role what it needs, no more."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('myelin_refuse_change()') IS NOT NULL")
        (function_exists,) = cursor.fetchone()
    if not function_exists:  # the audit app is migrated back before 0004: nothing to attach
        return
    _install_triggers(connection)
    role = settings.APP_DB_ROLE
    if role:
        _ensure_role(connection, role, settings.APP_DB_PASSWORD)
        _grant(connection, role)


def _existing_tables(connection: BaseDatabaseWrapper, tables: list[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class"
            " WHERE relname = ANY(%s) AND relkind IN ('r', 'p')"
            " AND relnamespace = current_schema()::regnamespace",
            [tables],
        )
        return {name for (name,) in cursor.fetchall()}


def _trigger_states(
    connection: BaseDatabaseWrapper, tables: set[str]
) -> dict[tuple[str, str], str]:
    """(table, trigger) -> pg_trigger.tgenabled: 'O' or 'A' fire; 'D' (disabled) and 'R'
    (replica only) do not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace"
            " AND NOT t.tgisinternal",
            [sorted(tables)],
        )
        return {(table, name): state for table, name, state in cursor.fetchall()}


def _expected_triggers(kind: str) -> tuple[str, str]:
    return ROW_TRIGGER[kind], TRUNCATE_TRIGGER


def _install_triggers(connection: BaseDatabaseWrapper) -> None:
    """Create the missing triggers and switch disabled ones back on."""
    wanted = protected_tables()
    tables = _existing_tables(connection, list(wanted))
    states = _trigger_states(connection, tables)
    with connection.cursor() as cursor:
        for table in sorted(tables):
            row_trigger, truncate_trigger = _expected_triggers(wanted[table])
            creates = {
                row_trigger: sql.SQL(
                    "CREATE TRIGGER {} BEFORE {} ON {} FOR EACH ROW"
                    " EXECUTE FUNCTION myelin_refuse_change()"
                ).format(
                    sql.Identifier(row_trigger), sql.SQL(wanted[table]), sql.Identifier(table)
                ),
                truncate_trigger: sql.SQL(
                    "CREATE TRIGGER {} BEFORE TRUNCATE ON {} FOR EACH STATEMENT"
                    " EXECUTE FUNCTION myelin_refuse_change()"
                ).format(sql.Identifier(truncate_trigger), sql.Identifier(table)),
            }
            for name, create in creates.items():
                state = states.get((table, name))
                if state is None:
                    _execute(cursor, connection, create)
                elif state not in "OA":
                    enable = sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(
                        sql.Identifier(table), sql.Identifier(name)
                    )
                    _execute(cursor, connection, enable)


def gaps(*, using: str = "default") -> list[str]:
    """What is missing from the protection right now (for `audit verify`): a trigger dropped or
    switched off by an owner, or the app's role allowed to change a protected table."""
    connection = connections[using]
    wanted = protected_tables()
    tables = _existing_tables(connection, list(wanted))
    states = _trigger_states(connection, tables)
    found = []
    for table in sorted(tables):
        for name in _expected_triggers(wanted[table]):
            state = states.get((table, name))
            if state is None:
                found.append(f"{table}: the trigger {name} is missing")
            elif state not in "OA":
                found.append(f"{table}: the trigger {name} is switched off")
    role = settings.APP_DB_ROLE
    if role:
        pairs = [(t, p) for t in sorted(tables) for p in REFUSED_TO_APP[wanted[t]]]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t, p FROM unnest(%s::text[], %s::text[]) AS pairs(t, p)"
                " WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)"
                " AND has_table_privilege(%s, t, p)",
                [[t for t, _ in pairs], [p for _, p in pairs], role, role],
            )
            found += [f"{table}: {role} may {privilege}" for table, privilege in cursor.fetchall()]
    return found


def _ensure_role(connection: BaseDatabaseWrapper, role: str, password: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR rolbypassrls, rolname = current_user FROM pg_roles"
            " WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found is None:
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(
                        _text(
                            connection, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role))
                        )
                    )
            except DatabaseError as error:
                raise ImproperlyConfigured(
                    f"The database role {role!r} named by MYELIN_APP_DB_ROLE does not exist and "
                    f"the migrating user may not create it ({type(error).__name__}). Ask the "
                    f"database administrator to run CREATE ROLE {role} LOGIN PASSWORD '...', or "
                    "set MYELIN_APP_DB_ROLE to an empty value to leave the app on the owner's "
                    "role (which can rewrite the audit trail)."
                ) from error
        elif found[1]:
            raise ImproperlyConfigured(
                f"MYELIN_APP_DB_ROLE is {role!r}, the role migrate itself runs as. The app's "
                "role must be a separate one: an owner can disable any trigger."
            )
        elif found[0]:
            raise ImproperlyConfigured(
                f"MYELIN_APP_DB_ROLE names {role!r}, a superuser (or a role that bypasses row "
                "security): it could rewrite the audit trail. Give the app an ordinary role."
            )
    if password:
        # On the driver's own cursor: Django's debug cursor would log the statement, password
        # and all, at DEBUG level.
        with connection.connection.cursor() as raw:
            raw.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )


def _grant(connection: BaseDatabaseWrapper, role: str) -> None:
    wanted = protected_tables()
    tables = _existing_tables(connection, list(wanted))
    grantee = sql.Identifier(role)

    def names(tables: list[str]) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(t) for t in tables)

    schema = sql.Identifier(_schema(connection))
    statements: list[sql.Composable] = [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, grantee),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, grantee
        ),
        # USAGE allows nextval() (audit_append draws ids itself) but not setval().
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, grantee),
        # The migration record is the schema's, not the app's.
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {}").format(
            grantee
        ),
    ]
    for kind, refused in REFUSED_TO_APP.items():
        kind_tables = sorted(t for t in tables if wanted[t] == kind)
        if kind_tables:
            statements.append(
                sql.SQL("REVOKE {} ON {} FROM {}").format(
                    sql.SQL(", ").join(sql.SQL(privilege) for privilege in refused),
                    names(kind_tables),
                    grantee,
                )
            )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(_text(connection, statement))


def _execute(cursor: Any, connection: BaseDatabaseWrapper, statement: sql.Composable) -> None:
    cursor.execute(_text(connection, statement))


def _text(connection: BaseDatabaseWrapper, statement: sql.Composable) -> str:
    """Compose with the connection's own quoting rules (a password literal included)."""
    return statement.as_string(connection.connection)


def _schema(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    return str(schema)


def protect_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (connected in AuditConfig.ready)."""
    protect(using=using)
