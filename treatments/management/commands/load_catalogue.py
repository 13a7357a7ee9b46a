from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from treatments.catalogue.services import load_catalogue


class Command(BaseCommand):
    help = "Load every protocol version of the code catalogue into the database (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_catalogue()
        self.stdout.write(
            self.style.SUCCESS(f"Catalogue loaded: {created} new protocol version(s).")
        )
