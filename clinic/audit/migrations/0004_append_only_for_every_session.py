"""The audit trail's append-only triggers become plain PostgreSQL triggers that no session setting
turns off.

The triggers they replace were django-pgtrigger's, which skip themselves when the session's
`pgtrigger.ignore` names them: any connection could `SET pgtrigger.ignore = ...` and then edit
or delete rows. myelin_refuse_change() reads nothing a session can set; the only ways past it
are owning the table (to disable or drop the trigger) or being a superuser, and the running app
is neither (see clinic.audit.protection, which also puts the same triggers on every pghistory
event table after each migrate).
"""

import pgtrigger.migrations
from django.db import migrations

REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION myelin_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The one exception: TRUNCATE in a database whose owner has marked it as a throwaway test
    -- database, so transactional tests can be flushed (tests/conftest.py). The mark is read
    -- from the catalog (ALTER DATABASE ... SET, which only the database's owner may do), not
    -- from the session, where any connection could set it.
    IF TG_OP = 'TRUNCATE' AND EXISTS (
        SELECT 1
        FROM pg_catalog.pg_db_role_setting s
        JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = pg_catalog.current_database()
          AND s.setrole = 0
          AND 'myelin.allow_audit_truncate=on' = ANY (s.setconfig)
    ) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING HINT = 'The audit trail and the history tables are never changed in place.';
END
$$;

CREATE TRIGGER myelin_append_only
    BEFORE UPDATE OR DELETE ON audit_accessevent
    FOR EACH ROW EXECUTE FUNCTION myelin_refuse_change();
CREATE TRIGGER myelin_no_truncate
    BEFORE TRUNCATE ON audit_accessevent
    FOR EACH STATEMENT EXECUTE FUNCTION myelin_refuse_change();
"""

UNDO = """
DROP TRIGGER IF EXISTS myelin_append_only ON audit_accessevent;
DROP TRIGGER IF EXISTS myelin_no_truncate ON audit_accessevent;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_append_function")]

    operations = [
        migrations.RunSQL(REFUSE_CHANGE, reverse_sql=UNDO),
        pgtrigger.migrations.RemoveTrigger(model_name="accessevent", name="append_only"),
        pgtrigger.migrations.RemoveTrigger(model_name="accessevent", name="no_truncate"),
    ]
