"""Checkpoints: the audit chain's head, anchored outside the database.

The hash chain proves that rows fit together, not that they are the rows that were written:
whoever can write to the tables directly (the owner, a superuser, a restored backup) can edit a
row and recompute every later hash, or delete the newest rows, and the chain still fits. So
every few minutes (Celery beat, MYELIN_AUDIT_CHECKPOINT_MINUTES) the head of the chain — the
last row's id and hash and the number of rows — is signed with a key the database never holds
(MYELIN_AUDIT_CHECKPOINT_KEY, HMAC-SHA256) and appended to a file outside the database
(MYELIN_AUDIT_CHECKPOINT_FILE), and mailed to MYELIN_AUDIT_CHECKPOINT_MAIL_TO when set.
`manage.py audit verify` then requires every checkpointed row to still be there with the same
hash and the same number of rows up to it (clinic.audit.services.verify_chain).

One line per checkpoint, JSON, numbered from 1 so a removed line shows as a gap. What the file
cannot show by itself is the loss of its own last lines, and nothing can show a rewrite of rows
newer than the last checkpoint: keep a copy elsewhere (the mail, or an append-only file system
attribute), and keep the interval short. To change the key, start a new file (and keep the old
one with its key): lines signed with another key do not verify.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import smtplib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone

from clinic.audit.models import GENESIS_HASH

logger = logging.getLogger(__name__)

VERSION = "myelin-audit-checkpoint-v1"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    at: datetime
    last_id: int  # 0 while the trail is empty
    last_hash: str
    count: int

    def payload(self) -> bytes:
        """What the signature covers, in a fixed order."""
        fields = [VERSION, self.seq, self.at.isoformat(), self.last_id, self.last_hash, self.count]
        return "|".join(str(field) for field in fields).encode()

    def signature(self, key: str) -> str:
        return hmac.new(key.encode(), self.payload(), hashlib.sha256).hexdigest()

    def line(self, key: str) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "at": self.at.isoformat(),
                "last_id": self.last_id,
                "last_hash": self.last_hash,
                "count": self.count,
                "hmac": self.signature(key),
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class FileProblem:
    line_no: int
    problem: str


def checkpoint_key() -> str:
    key: str = settings.AUDIT_CHECKPOINT_KEY
    if not key:
        raise ImproperlyConfigured(
            "MYELIN_AUDIT_CHECKPOINT_KEY is not set: audit checkpoints can be neither written nor "
            "checked. Give the worker (and whoever runs `audit verify`) a key of at least 32 "
            "characters, e.g. as MYELIN_AUDIT_CHECKPOINT_KEY_FILE."
        )
    return key


def read_head() -> tuple[int, str, int]:
    """The last row's id and hash and the number of rows, from one snapshot.

    Appends commit in id order (audit_append holds the chain lock until commit), so a snapshot
    always sees a whole prefix of the chain: the count is the number of rows up to that id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.hash, (SELECT count(*) FROM audit_accessevent)"
            " FROM audit_accessevent a ORDER BY a.id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        return 0, GENESIS_HASH, 0
    return int(row[0]), str(row[1]), int(row[2])


def write_checkpoint(*, path: Path | None = None) -> Checkpoint:
    """Append a signed checkpoint of the chain's head to the checkpoint file (and mail it)."""
    key = checkpoint_key()
    target = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        # Two runs at once (a repeated beat message) still number their lines in order.
        fcntl.flock(out, fcntl.LOCK_EX)
        last_id, last_hash, count = read_head()
        checkpoint = Checkpoint(
            seq=_last_seq(target) + 1,
            at=timezone.now(),
            last_id=last_id,
            last_hash=last_hash,
            count=count,
        )
        out.write(checkpoint.line(key) + "\n")
        out.flush()
        os.fsync(out.fileno())
    _mail(checkpoint, key)
    return checkpoint


def _last_seq(path: Path) -> int:
    with path.open("rb") as lines:
        lines.seek(0, os.SEEK_END)
        lines.seek(max(0, lines.tell() - 4096))
        tail = lines.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(tail):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign line: `audit verify` reports it
    if path.stat().st_size > 4096:  # no whole line in the tail: read them all
        checkpoints, _ = read_checkpoints(path, key=None)
        return max((c.seq for c in checkpoints), default=0)
    return 0


def _mail(checkpoint: Checkpoint, key: str) -> None:
    recipients: list[str] = settings.AUDIT_CHECKPOINT_MAIL_TO
    if not recipients:
        return
    try:
        send_mail(
            subject=f"Myelin audit checkpoint {checkpoint.seq}",
            message=(
                "The head of Myelin's audit trail at "
                f"{checkpoint.at:%Y-%m-%d %H:%M} UTC: {checkpoint.count} rows, the last "
                f"number {checkpoint.last_id}.\n\nKeep this message: `manage.py audit verify "
                "--checkpoints FILE` checks the trail against a file of such lines.\n\n"
                f"{checkpoint.line(key)}\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except (OSError, smtplib.SMTPException):
        # The file already holds the checkpoint; the next one is mailed in a few minutes.
        logger.exception("Audit checkpoint %s could not be mailed", checkpoint.seq)


def read_checkpoints(path: Path, *, key: str | None) -> tuple[list[Checkpoint], list[FileProblem]]:
    """Every checkpoint in the file whose signature holds, and what is wrong with the rest.

    With key=None signatures are not checked (only used to find the next number)."""
    checkpoints: list[Checkpoint] = []
    problems: list[FileProblem] = []
    expected_seq = 1
    text = path.read_text(encoding="utf-8", errors="replace")
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            checkpoint = Checkpoint(
                seq=int(fields["seq"]),
                at=datetime.fromisoformat(fields["at"]),
                last_id=int(fields["last_id"]),
                last_hash=str(fields["last_hash"]),
                count=int(fields["count"]),
            )
            signature = str(fields["hmac"])
        except (ValueError, KeyError, TypeError):
            problems.append(FileProblem(line_no, "is not a checkpoint line (damaged or edited)"))
            continue
        if key is not None and not hmac.compare_digest(signature, checkpoint.signature(key)):
            problems.append(
                FileProblem(
                    line_no,
                    f"checkpoint {checkpoint.seq}: the signature does not match (edited, forged, "
                    "or signed with another key)",
                )
            )
            continue
        if checkpoint.seq != expected_seq:
            problems.append(
                FileProblem(
                    line_no,
                    f"checkpoint {checkpoint.seq} follows {expected_seq - 1}: checkpoint lines "
                    "were removed or reordered",
                )
            )
        expected_seq = checkpoint.seq + 1
        checkpoints.append(checkpoint)
    return checkpoints, problems
