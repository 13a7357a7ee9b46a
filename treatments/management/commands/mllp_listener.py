"""`manage.py mllp_listener`: receive HL7 v2 lab results over MLLP until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from treatments.labimport import listener


class Command(BaseCommand):
    help = (
        "Listen for HL7 v2 ORU^R01 lab results over MLLP and answer each with an ACK or NAK "
        "(MYELIN_MLLP_HOST / MYELIN_MLLP_PORT)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.MLLP_HOST)
        parser.add_argument("--port", type=int, default=settings.MLLP_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]

        async def main() -> None:
            task = asyncio.current_task()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, task.cancel)  # type: ignore[union-attr]
            with contextlib.suppress(asyncio.CancelledError):
                await listener.serve(host, port)  # logs the address it listens on

        asyncio.run(main())
        self.stdout.write("MLLP listener stopped.")
