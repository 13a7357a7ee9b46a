from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.audit.checkpoints import (
    Checkpoint,
    FileProblem,
    checkpoint_key,
    read_checkpoints,
    write_checkpoint,
)
from clinic.audit.models import AccessEvent
from clinic.audit.protection import gaps
from clinic.audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Audit trail tools. `audit verify` checks the hash chain against the signed checkpoints "
        "and exits 1 on any tampering; `audit checkpoint` writes a checkpoint now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "checkpoint"])
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="Checkpoint file to verify against (default: MYELIN_AUDIT_CHECKPOINT_FILE), "
            "e.g. one rebuilt from the mailed copies.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "checkpoint":
                checkpoint = write_checkpoint(path=options["checkpoints"])
                self.stdout.write(
                    f"Checkpoint {checkpoint.seq}: {checkpoint.count} rows, the last "
                    f"number {checkpoint.last_id}."
                )
                return
            self.verify(options["checkpoints"] or settings.AUDIT_CHECKPOINT_FILE)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error

    def verify(self, path: Path) -> None:
        checkpoints: list[Checkpoint] = []
        file_problems: list[FileProblem] = []
        if path.exists():
            checkpoints, file_problems = read_checkpoints(path, key=checkpoint_key())
        else:
            self.stderr.write(
                self.style.WARNING(
                    f"No checkpoint file at {path}: only the chain's own consistency is "
                    "checked, which misses an edit followed by recomputing every later hash, "
                    "and the deletion of the newest rows."
                )
            )
        problems = verify_chain(checkpoints=checkpoints)
        protection = gaps()  # `migrate` puts it back
        total = AccessEvent.objects.count()
        if not problems and not file_problems and not protection:
            against = f" against {len(checkpoints)} checkpoint(s)" if checkpoints else ""
            self.stdout.write(
                self.style.SUCCESS(f"Audit chain intact: {total} rows verified{against}.")
            )
            return
        for file_problem in file_problems:
            self.stderr.write(f"{path}, line {file_problem.line_no}: {file_problem.problem}")
        for problem in problems:
            self.stderr.write(f"Row {problem.event_id}: {problem.problem}")
        for gap in protection:
            self.stderr.write(f"Protection: {gap}")
        if problems or file_problems:
            self.stderr.write(
                self.style.ERROR(
                    f"Audit chain BROKEN: {len(problems) + len(file_problems)} problem(s) in "
                    f"{total} rows and {len(checkpoints) + len(file_problems)} checkpoint(s)."
                )
            )
        else:
            self.stderr.write(
                self.style.ERROR(
                    f"Audit chain intact ({total} rows), but its protection is off: "
                    "run `manage.py migrate` as the owner to restore it."
                )
            )
        sys.exit(1)
