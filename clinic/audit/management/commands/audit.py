from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinic.audit.models import AccessEvent
from clinic.audit.services import verify_chain


class Command(BaseCommand):
    help = "Audit trail tools. `audit verify` checks the hash chain and exits 1 on any tampering."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify_chain()
        total = AccessEvent.objects.count()
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {total} rows verified."))
            return
        for problem in problems:
            self.stderr.write(f"Row {problem.event_id}: {problem.problem}")
        self.stderr.write(
            self.style.ERROR(f"Audit chain BROKEN: {len(problems)} problem(s) in {total} rows.")
        )
        sys.exit(1)
