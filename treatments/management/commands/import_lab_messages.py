"""`manage.py import_lab_messages FILE...`: import HL7 v2 or CSV lab result files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.labimport import services
from treatments.labimport.forms import decode
from treatments.models import Channel, MessageState


class Command(BaseCommand):
    help = (
        "Import lab results from files: HL7 v2 ORU^R01 (one or many, MLLP-framed or not) or CSV. "
        "What cannot be matched waits in the review queue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--lab", default="", help="Laboratory name for CSV files without one")
        parser.add_argument("--dry-run", action="store_true", help="Check everything, keep nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["files"]:
            try:
                text = decode(path.read_bytes())
            except OSError as error:
                raise CommandError(f"Cannot read {path}: {error.strerror}") from None
            summary = services.receive(
                text=text,
                channel=Channel.FILE,
                by=None,
                lab=options["lab"],
                dry_run=options["dry_run"],
            )
            self.stdout.write(
                f"{path.name}: {summary.count(MessageState.IMPORTED)} imported "
                f"({summary.results} results), {summary.count(MessageState.QUEUED)} held for "
                f"review, {summary.duplicates} already received"
                + (" (dry run: nothing kept)" if summary.dry_run else "")
            )
