"""manage.py generate_clinic --patients N [--seed S]: a clinic-sized data set for benchmarks."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.bench.generate import ClinicShape, GenerationRefused, generate


class Command(BaseCommand):
    help = "Generate a realistic clinic (teams, clinicians, patients, DMT plans, monitoring) fast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--clinicians-per-team",
            default="4,3,2",
            help="Neurologists, nurses and therapists per team (default 4,3,2).",
        )
        parser.add_argument("--caseload", type=int, default=100, help="Patients per neurologist.")
        parser.add_argument("--small-caseload", type=int, default=10)
        parser.add_argument("--today", type=date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            neuro, nurses, therapists = (int(n) for n in options["clinicians_per_team"].split(","))
        except ValueError:
            raise CommandError("--clinicians-per-team is three numbers, e.g. 4,3,2.") from None
        if options["patients"] < 1 or min(neuro, nurses, therapists) < 1:
            raise CommandError("Give at least one patient and one clinician of each role.")
        extra = {"today": options["today"]} if options["today"] else {}
        shape = ClinicShape(
            patients=options["patients"],
            seed=options["seed"],
            neurologists_per_team=neuro,
            nurses_per_team=nurses,
            therapists_per_team=therapists,
            caseload=options["caseload"],
            small_caseload=options["small_caseload"],
            **extra,
        )
        started = time.monotonic()
        try:
            counts = generate(shape)
        except GenerationRefused as error:
            raise CommandError(str(error)) from None
        for table, n in sorted(counts.rows.items()):
            self.stdout.write(f"{table:<40} {n:>10,}")
        self.stdout.write(f"Generated in {time.monotonic() - started:.1f} s.")
