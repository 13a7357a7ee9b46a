from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from clinic.health import check_beat


class Command(BaseCommand):
    help = (
        "Exit 0 when beat's heartbeat is fresh, 1 when it is stale (for container health checks)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        check = check_beat()
        self.stdout.write(f"beat: {check.detail}")
        sys.exit(0 if check.ok else 1)
