from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic import demo
from clinic.accounts.models import User
from patients.models import Patient


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
            from treatments.rehab import demo as rehab_demo

            rehab_demo.seed(users)
            from treatments import demo as treatments_demo

            treatments_demo.seed(users)
            from django.utils.timezone import localdate

            from treatments.labimport import demo as lab_demo

            lab_demo.seed(today=localdate())  # the sample lab messages (labimport/samples)
            # The rest of both teams' caseloads, generated set-based around the showcase patients.
            generated = treatments_demo.seed_caseload(today=localdate())
        # What beat and the result hooks would do over the next minutes, done now so the demo
        # opens with its alerts in place (each step is idempotent).
        # Older results were reviewed at the time; the recent ones wait for the clinic's review.
        from datetime import timedelta

        from django.utils import timezone

        from treatments.models.results import Result
        from treatments.monitoring import sweeps
        from treatments.safety import evaluation
        from treatments.safety import services as safety_services

        Result.objects.filter(taken_on__lt=timezone.localdate() - timedelta(days=30)).update(
            reviewed_by=User.objects.get(username="dr.okafor"), reviewed_at=timezone.now()
        )
        # The generated patients' results were graded as they were generated (their abnormal
        # ones already have alerts); the showcase patients' go through the real evaluation.
        showcase = Result.objects.exclude(patient_id__in=generated)
        for result_id in showcase.order_by("taken_on", "pk").values_list("pk", flat=True):
            evaluation.evaluate_result(result_id=result_id)
        safety_services.reassess_all_pml_risk()
        for sweep in (
            sweeps.sweep_overdue,
            sweeps.sweep_due_soon,
            sweeps.sweep_breached_referrals,
            sweeps.sweep_missing_edss,
        ):
            sweep()
        self.stdout.write(
            self.style.SUCCESS(f"Demo clinic loaded: {Patient.objects.count()} patients.")
        )
