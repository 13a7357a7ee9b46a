from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic import demo
from clinic.accounts.models import User


class Command(BaseCommand):
    help = "Load the demo clinic once. A second run keeps the existing data."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "The demo clinic can only be loaded with MYELIN_DEMO_MODE on (never in production)."
            )
        if User.objects.filter(username=demo.DEMO_USERS[0].username).exists():
            self.stdout.write("Demo clinic already loaded; keeping the existing data.")
            return
        with transaction.atomic():
            users = demo.seed_staff()
            from patients import demo as patients_demo

            patients_demo.seed(users)
            from treatments import rehab_demo

            rehab_demo.seed(users)
            from treatments import demo as treatments_demo

            treatments_demo.seed(users)
        self.stdout.write(self.style.SUCCESS("Demo clinic loaded."))
