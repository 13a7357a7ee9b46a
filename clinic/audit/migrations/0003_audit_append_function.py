"""Appending to the access trail in one statement: the database takes the chain lock, chains each
row onto the last (scheme 2, see clinic.audit.models) and inserts it. Rows written before this
migration keep scheme 1."""

import importlib

from django.db import migrations, models

# Put back by an unapply, for the code of migration 0002's time.
RESERVE = importlib.import_module("clinic.audit.migrations.0002_audit_reserve_function").RESERVE

APPEND = """
CREATE OR REPLACE FUNCTION audit_append(
    p_at timestamptz,
    p_user_id bigint,
    p_patient_ids bigint[],
    p_actions text[],
    p_categories text[],
    p_object_types text[],
    p_object_ids text[],
    p_details text[],
    p_digests text[]
)
RETURNS TABLE (event_id bigint, event_hash varchar, event_prev_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    prev varchar;
    new_id bigint;
    new_hash varchar;
BEGIN
    -- One lock serialises appends so the chain has a single order; held to the end of the
    -- transaction (just this statement when the caller has none).
    PERFORM pg_advisory_xact_lock(1297696076);
    -- A statement of its own: a VOLATILE function takes a fresh snapshot for each statement, so
    -- under READ COMMITTED this sees every append committed before the lock was granted.
    SELECT a.hash INTO prev FROM audit_accessevent a ORDER BY a.id DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    FOR i IN 1 .. coalesce(array_length(p_digests, 1), 0) LOOP
        new_id := nextval(pg_get_serial_sequence('audit_accessevent', 'id'));
        new_hash := encode(sha256(convert_to(prev || ':' || new_id || ':' || p_digests[i], 'UTF8')), 'hex');
        INSERT INTO audit_accessevent
            (id, at, user_id, patient_id, action, category, object_type, object_id, detail,
             prev_hash, hash, scheme)
        VALUES
            (new_id, p_at, p_user_id, p_patient_ids[i], p_actions[i], p_categories[i],
             p_object_types[i], p_object_ids[i], p_details[i], prev, new_hash, 2);
        event_id := new_id;
        event_hash := new_hash;
        event_prev_hash := prev;
        RETURN NEXT;
        prev := new_hash;
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_audit_reserve_function")]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.RunSQL(
            APPEND,
            reverse_sql="DROP FUNCTION IF EXISTS audit_append(timestamptz, bigint, bigint[], text[], text[], text[], text[], text[], text[]);",
        ),
        migrations.RunSQL("DROP FUNCTION IF EXISTS audit_reserve(integer);", reverse_sql=RESERVE),
    ]
