"""Signed checkpoints of the chain's head, kept outside the database, let `audit verify` catch a
trail rewritten by someone who can write to the tables directly: the chain alone cannot."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from clinic.audit.checkpoints import read_checkpoints, write_checkpoint
from clinic.audit.models import GENESIS_HASH, AccessEvent
from clinic.audit.services import verify_chain
from clinic.audit.tasks import write_checkpoint as write_checkpoint_task
from tests.clinic.test_audit import _tamper, _three_events


def _verify() -> tuple[int, str]:
    """Run `manage.py audit verify`; its exit code and what it wrote to stderr."""
    err = StringIO()
    try:
        call_command("audit", "verify", stdout=StringIO(), stderr=err)
    except SystemExit as exit_info:
        return int(exit_info.code or 0), err.getvalue()
    return 0, err.getvalue()


def _checkpoints() -> list:
    checkpoints, problems = read_checkpoints(
        settings.AUDIT_CHECKPOINT_FILE, key=settings.AUDIT_CHECKPOINT_KEY
    )
    assert problems == []
    return checkpoints


def _rehash_from(event_id: int) -> None:
    """What an owner of the tables could do after editing a row: recompute every hash from there
    on, so that each row matches its hash and follows its predecessor again."""
    prev = (
        AccessEvent.objects.filter(id__lt=event_id)
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
        or GENESIS_HASH
    )
    for event in AccessEvent.objects.filter(id__gte=event_id).order_by("id"):
        event.prev_hash = prev
        new_hash = event.compute_hash()
        _tamper(
            "UPDATE audit_accessevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, new_hash, event.id],
        )
        prev = new_hash


def test_a_checkpoint_records_the_signed_head_of_the_chain(neurologist, patient_a):
    *_, third = _three_events(neurologist, patient_a)
    checkpoint = write_checkpoint()

    assert (checkpoint.seq, checkpoint.last_id, checkpoint.last_hash) == (1, third.id, third.hash)
    assert checkpoint.count == AccessEvent.objects.count()
    line = json.loads(Path(settings.AUDIT_CHECKPOINT_FILE).read_text())
    assert line["hmac"] == checkpoint.signature(settings.AUDIT_CHECKPOINT_KEY)
    assert _checkpoints() == [checkpoint]


def test_an_untouched_trail_that_kept_growing_verifies_against_its_checkpoints(
    neurologist, patient_a
):
    write_checkpoint()  # the trail may be empty at first
    _three_events(neurologist, patient_a)
    write_checkpoint()
    _three_events(neurologist, patient_a)  # newer than the last checkpoint: fine

    assert len(_checkpoints()) == 2
    assert verify_chain(checkpoints=_checkpoints()) == []
    assert _verify() == (0, "")


def test_verify_detects_a_modified_row(neurologist, patient_a):
    _first, second, _third = _three_events(neurologist, patient_a)
    write_checkpoint()
    _tamper("UPDATE audit_accessevent SET detail = 'x' WHERE id = %s", [second.id])

    code, err = _verify()
    assert code == 1
    assert f"Row {second.id}: its contents do not match its hash (modified)" in err


def test_verify_detects_a_deleted_middle_row(neurologist, patient_a):
    _first, second, third = _three_events(neurologist, patient_a)
    write_checkpoint()
    _tamper("DELETE FROM audit_accessevent WHERE id = %s", [second.id])

    code, err = _verify()
    assert code == 1
    assert f"Row {third.id}: does not follow the previous row" in err
    assert f"Row {third.id}: {AccessEvent.objects.count()} rows up to it" in err


def test_verify_detects_deleted_newest_rows(neurologist, patient_a):
    _first, second, third = _three_events(neurologist, patient_a)
    write_checkpoint()
    _tamper("DELETE FROM audit_accessevent WHERE id IN (%s, %s)", [second.id, third.id])

    # What is left is a perfectly good chain: only the checkpoint knows it used to be longer.
    assert verify_chain() == []
    code, err = _verify()
    assert code == 1
    assert f"Row {third.id}: is gone, though checkpoint 1" in err


def test_verify_detects_a_full_rehash_after_an_edit(neurologist, patient_a):
    _first, second, third = _three_events(neurologist, patient_a)
    write_checkpoint()
    _tamper("UPDATE audit_accessevent SET detail = 'nothing to see' WHERE id = %s", [second.id])
    _rehash_from(second.id)

    # Every row matches its hash and follows its predecessor again ...
    assert verify_chain() == []
    # ... but the head is no longer the one that was checkpointed.
    code, err = _verify()
    assert code == 1
    assert f"Row {third.id}: its hash differs from checkpoint 1" in err


def test_a_checkpoint_edited_to_hide_deleted_rows_is_refused(neurologist, patient_a):
    first, _second, _third = _three_events(neurologist, patient_a)
    write_checkpoint()
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    # Delete the newest rows and make the checkpoint say the trail ended at the first row.
    _tamper("DELETE FROM audit_accessevent WHERE id > %s", [first.id])
    line = json.loads(path.read_text())
    line.update(last_id=first.id, last_hash=first.hash, count=AccessEvent.objects.count())
    path.write_text(json.dumps(line) + "\n")

    code, err = _verify()
    assert code == 1
    assert "line 1: checkpoint 1: the signature does not match" in err


def test_a_removed_checkpoint_line_shows_as_a_gap(neurologist, patient_a):
    for _ in range(3):
        _three_events(neurologist, patient_a)
        write_checkpoint()
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    first, _second, third = path.read_text().splitlines()
    path.write_text(f"{first}\n{third}\n")

    code, err = _verify()
    assert code == 1
    assert "line 2: checkpoint 3 follows 1: checkpoint lines were removed" in err


def test_checkpoints_signed_with_another_key_are_refused(neurologist, patient_a, settings):
    _three_events(neurologist, patient_a)
    write_checkpoint()
    settings.AUDIT_CHECKPOINT_KEY = "another-key-of-at-least-thirty-two-characters"

    code, err = _verify()
    assert code == 1
    assert "the signature does not match" in err


def test_verify_can_check_against_a_copy_of_the_checkpoints(neurologist, patient_a, tmp_path):
    """The admins' copy (rebuilt from the mailed lines) is as good as the file."""
    _first, second, _third = _three_events(neurologist, patient_a)
    write_checkpoint()
    copy = tmp_path / "from-mail.log"
    copy.write_text(Path(settings.AUDIT_CHECKPOINT_FILE).read_text())
    Path(settings.AUDIT_CHECKPOINT_FILE).unlink()  # the attacker removed the file
    _tamper("DELETE FROM audit_accessevent WHERE id >= %s", [second.id])

    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", "--checkpoints", str(copy), stderr=err)
    assert "is gone, though checkpoint 1" in err.getvalue()


def test_without_a_checkpoint_file_verify_says_what_it_cannot_see(neurologist, patient_a):
    _three_events(neurologist, patient_a)
    code, err = _verify()
    assert code == 0
    assert "No checkpoint file" in err


def test_without_a_key_no_checkpoint_is_written_and_verify_says_why(
    neurologist, patient_a, settings
):
    _three_events(neurologist, patient_a)
    write_checkpoint()
    settings.AUDIT_CHECKPOINT_KEY = ""
    with pytest.raises(CommandError, match="MYELIN_AUDIT_CHECKPOINT_KEY is not set"):
        call_command("audit", "checkpoint")
    with pytest.raises(CommandError, match="MYELIN_AUDIT_CHECKPOINT_KEY is not set"):
        call_command("audit", "verify")


def test_beat_writes_a_checkpoint_every_few_minutes(neurologist, patient_a):
    _three_events(neurologist, patient_a)
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == write_checkpoint_task.name
    assert entry["schedule"] == 60.0 * settings.AUDIT_CHECKPOINT_MINUTES

    write_checkpoint_task.delay()
    write_checkpoint_task.delay()

    assert [c.seq for c in _checkpoints()] == [1, 2]


def test_checkpoints_are_mailed_when_asked(neurologist, patient_a, settings, mailoutbox):
    _three_events(neurologist, patient_a)
    settings.AUDIT_CHECKPOINT_MAIL_TO = ["audit-archive@hospital.example"]
    checkpoint = write_checkpoint()

    [mail] = mailoutbox
    assert mail.to == ["audit-archive@hospital.example"]
    assert checkpoint.line(settings.AUDIT_CHECKPOINT_KEY) in mail.body
    assert patient_a.family_name not in mail.body
