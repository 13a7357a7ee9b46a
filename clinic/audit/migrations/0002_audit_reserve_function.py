"""One round trip to take the chain lock and reserve ids with the hash to chain onto."""

from django.db import migrations

RESERVE = """
CREATE OR REPLACE FUNCTION audit_reserve(n integer)
RETURNS TABLE (event_id bigint, last_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- One lock serialises appends so the chain has a single order; held to the end of the
    -- caller's transaction.
    PERFORM pg_advisory_xact_lock(1297696076);
    -- A separate statement on purpose: a VOLATILE function takes a fresh snapshot for each
    -- statement, so under READ COMMITTED this read sees every append committed before the
    -- lock was granted (read in the lock's own statement it could miss the one we waited
    -- for, and fork the chain).
    RETURN QUERY
        SELECT nextval(pg_get_serial_sequence('audit_accessevent', 'id')),
               (SELECT a.hash FROM audit_accessevent a ORDER BY a.id DESC LIMIT 1)
        FROM generate_series(1, n);
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunSQL(RESERVE, reverse_sql="DROP FUNCTION IF EXISTS audit_reserve(integer);"),
    ]
