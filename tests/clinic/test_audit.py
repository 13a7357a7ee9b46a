"""The access trail: every patient read is recorded, and tampering is detectable."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from clinic.audit.models import AccessEvent, Action, Category
from clinic.audit.services import record, verify_chain


def test_opening_a_patient_writes_an_access_record(signed_in, neurologist, patient_a):
    client = signed_in(neurologist)
    before = AccessEvent.objects.filter(patient=patient_a).count()
    response = client.get(patient_a.get_absolute_url())
    assert response.status_code == 200
    events = AccessEvent.objects.filter(patient=patient_a)
    assert events.count() == before + 1
    event = events.first()
    assert event is not None
    assert (event.user, event.action, event.category) == (
        neurologist,
        Action.VIEW,
        Category.CLINICAL,
    )


def test_a_refused_patient_page_writes_no_access_record_for_that_patient(
    signed_in, other_neurologist, patient_a
):
    client = signed_in(other_neurologist)
    assert client.get(patient_a.get_absolute_url()).status_code == 404
    assert not AccessEvent.objects.filter(patient=patient_a).exists()


def _three_events(user, patient):
    return [
        record(user=user, patient=patient, action=Action.VIEW, category=Category.CLINICAL)
        for _ in range(3)
    ]


def test_an_untouched_chain_verifies(neurologist, patient_a):
    _three_events(neurologist, patient_a)
    assert verify_chain() == []


def test_audit_rows_cannot_be_updated_or_deleted_by_the_application(neurologist, patient_a):
    [event, *_] = _three_events(neurologist, patient_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(detail="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()


def _tamper(sql: str, params: list) -> None:
    # Only a database superuser who disables the trigger can do this; verify must still notice.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending FK checks
        cursor.execute("ALTER TABLE audit_accessevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_accessevent ENABLE TRIGGER USER")


def test_verify_detects_a_modified_row(neurologist, patient_a):
    _first, second, _third = _three_events(neurologist, patient_a)
    _tamper("UPDATE audit_accessevent SET action = 'update' WHERE id = %s", [second.id])
    assert [p.event_id for p in verify_chain()] == [second.id]


def test_verify_detects_a_deleted_row(neurologist, patient_a):
    _first, second, third = _three_events(neurologist, patient_a)
    _tamper("DELETE FROM audit_accessevent WHERE id = %s", [second.id])
    assert [p.event_id for p in verify_chain()] == [third.id]


def test_verify_detects_reordered_rows(neurologist, patient_a):
    _first, second, third = _three_events(neurologist, patient_a)
    # Swap the ids of two rows: each then sits after the wrong predecessor.
    _tamper(
        "UPDATE audit_accessevent SET id = CASE id WHEN %s THEN -1 WHEN %s THEN %s END WHERE id IN (%s, %s)",
        [second.id, third.id, second.id, second.id, third.id],
    )
    _tamper("UPDATE audit_accessevent SET id = %s WHERE id = -1", [third.id])
    assert verify_chain() != []


def test_verify_command_fails_loudly_on_tampering(neurologist, patient_a):
    first, _second, _third = _three_events(neurologist, patient_a)
    call_command("audit", "verify")  # clean chain: no error
    _tamper("UPDATE audit_accessevent SET detail = 'x' WHERE id = %s", [first.id])
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_many_connections_keep_one_unbroken_chain(neurologist, patient_a):
    """Eight writers at once, each appending in its own transactions: every append waits for the
    chain lock and chains onto the one committed just before it, so nothing forks."""
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def writer() -> None:
        barrier.wait()
        try:
            for _ in range(15):
                with transaction.atomic():
                    record(
                        user=neurologist,
                        patient=patient_a,
                        action=Action.VIEW,
                        category=Category.CLINICAL,
                    )
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert AccessEvent.objects.filter(patient=patient_a).count() == 8 * 15
    assert verify_chain() == []


def test_rows_of_the_older_hash_scheme_and_the_current_one_verify_as_one_chain(
    neurologist, patient_a
):
    """An installation that began before chaining moved into the database keeps its first rows
    (scheme 1, hashed in Python); new rows chain onto them."""
    from django.db import connection as db
    from django.utils import timezone

    from clinic.audit.models import GENESIS_HASH

    with db.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('audit_accessevent', 'id'))")
        (first_id,) = cursor.fetchone()
    old = AccessEvent(
        id=first_id,
        at=timezone.now(),
        user=neurologist,
        patient=patient_a,
        action=Action.VIEW,
        category=Category.CLINICAL,
        prev_hash=AccessEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        or GENESIS_HASH,
        scheme=1,
    )
    old.hash = old.compute_hash()
    AccessEvent.objects.bulk_create([old])

    newer = _three_events(neurologist, patient_a)

    assert newer[0].prev_hash == old.hash
    assert {event.scheme for event in AccessEvent.objects.all()} == {1, 2}
    assert verify_chain() == []
    _tamper("UPDATE audit_accessevent SET detail = 'x' WHERE id = %s", [old.id])
    assert [p.event_id for p in verify_chain()] == [old.id]
