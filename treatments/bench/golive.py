"""The go-live import on the bench (issue #15): CSV files of thousands of patients and their
DMT history, made from the bench database's own care team and clinicians with the generator's
drug mix, then checked (dry run), imported (all or nothing) and their monitoring materialised,
each timed. Run on a scratch copy by treatments.bench.run.golive."""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import CareTeam, Role, User
from clinic.celery import app
from treatments.bench.generate import DMT_MIX
from treatments.golive import services
from treatments.golive.parsing import DMT_COLUMNS, PATIENT_COLUMNS
from treatments.models import ClinicSettings, MonitoringItem
from treatments.protocols import add_months

# Later administrations on each drug's real schedule: infusions every 4 weeks, 6-monthly
# infusions, a second yearly course. Others are daily tablets or regular injections.
SCHEDULES = {
    "natalizumab_iv": ("weeks", 4),
    "ocrelizumab_iv": ("months", 6),
    "alemtuzumab": ("courses", 12),
    "cladribine": ("courses", 12),
}


@dataclass
class GoLiveTimes:
    dry_run_s: float = 0.0
    import_s: float = 0.0
    materialise_s: float = 0.0
    plans: int = 0
    doses: int = 0
    items: int = 0
    unavailable: str = ""


def golive_files(n: int, *, team: str, neurologist: str, nurse: str) -> tuple[bytes, bytes]:
    """`n` patients (MRNs GL00000001...) and their histories: one current DMT each, a fifth
    with glatiramer stopped before it. The same `n` gives the same files."""
    rng = random.Random(15)
    today = timezone.localdate()
    drugs, weights = zip(*DMT_MIX, strict=True)
    patients, plans = io.StringIO(), io.StringIO()
    p = csv.DictWriter(patients, [c.name for c in PATIENT_COLUMNS], lineterminator="\n")
    d = csv.DictWriter(plans, [c.name for c in DMT_COLUMNS], lineterminator="\n")
    p.writeheader()
    d.writeheader()
    for i in range(1, n + 1):
        mrn = f"GL{i:08d}"
        born = today - timedelta(days=365 * rng.randint(25, 65) + rng.randint(0, 364))
        diagnosed = born + timedelta(days=365 * 19)
        p.writerow(
            {
                "mrn": mrn,
                "given_name": "Import",
                "family_name": f"Patient {i}",
                "date_of_birth": f"{born:%Y-%m-%d}",
                "sex": rng.choice(["female", "female", "male"]),
                "care_team": team,
                "neurologist": neurologist,
                "nurse": nurse,
                "diagnosis_on": f"{diagnosed:%Y-%m-%d}",
                "disease_course": f"rrms {diagnosed:%Y-%m-%d}",
            }
        )
        start = today - timedelta(days=rng.randint(60, 6 * 365))
        if i % 5 == 0 and start - timedelta(days=400) > diagnosed:
            d.writerow(
                {
                    "mrn": mrn,
                    "drug": "glatiramer",
                    "started_on": f"{max(diagnosed, start - timedelta(days=1500)):%Y-%m-%d}",
                    "stopped_on": f"{start - timedelta(days=30):%Y-%m-%d}",
                    "stop_reason": "lack_of_efficacy",
                }
            )
        drug = rng.choices(drugs, weights)[0]
        unit, step = SCHEDULES.get(drug, ("", 0))
        later = []
        for k in range(1, 400):
            if not unit or (unit == "courses" and k > 1):
                break
            day = (
                start + timedelta(weeks=step * k)
                if unit == "weeks"
                else add_months(start, step * k)
            )
            if day > today:
                break
            later.append(f"{day:%Y-%m-%d}")
        d.writerow(
            {
                "mrn": mrn,
                "drug": drug,
                "started_on": f"{start:%Y-%m-%d}",
                "doses": "; ".join(later) if unit in ("weeks", "months") else "",
                "courses": "; ".join(later) if unit == "courses" else "",
            }
        )
    return patients.getvalue().encode(), plans.getvalue().encode()


def time_golive(n: int) -> GoLiveTimes:
    """Dry run, import and materialisation of `n` generated patients, timed. The database is
    a scratch copy: everything stays there."""
    team = (
        CareTeam.objects.filter(members__role=Role.NEUROLOGIST)
        .filter(members__role=Role.NURSE)
        .distinct()
        .first()
    )
    if team is None:
        return GoLiveTimes(unavailable="no care team with a neurologist and a nurse")
    neurologist = team.members.filter(role=Role.NEUROLOGIST, is_active=True).first()
    nurse = team.members.filter(role=Role.NURSE, is_active=True).first()
    if neurologist is None or nurse is None:
        return GoLiveTimes(unavailable="no active clinicians in the team")
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    if admin is None:
        admin = User.objects.create(username="bench.admin", role=Role.ADMIN)
    ClinicSettings.objects.filter(go_live_on__isnull=True).update(go_live_on=timezone.localdate())
    patients_csv, dmt_csv = golive_files(
        n, team=team.name, neurologist=neurologist.username, nurse=nurse.username
    )
    times = GoLiveTimes()
    started = time.perf_counter()
    checked = services.check_files(patients_csv=patients_csv, dmt_csv=dmt_csv, by=admin)
    times.dry_run_s = time.perf_counter() - started
    if not checked.ok:
        return GoLiveTimes(unavailable=f"the generated files have problems: {checked.issues[0]}")
    # The materialisation tasks run inline when the import commits, as a worker runs them just
    # after; a callback registered first marks the moment of the commit.
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    items_before = MonitoringItem.objects.count()
    marks: dict[str, float] = {}
    try:
        started = time.perf_counter()
        with transaction.atomic():
            transaction.on_commit(lambda: marks.setdefault("committed", time.perf_counter()))
            done = services.import_files(patients_csv=patients_csv, dmt_csv=dmt_csv, by=admin)
        finished = time.perf_counter()
    finally:
        app.conf.task_always_eager = eager
    if not done.imported:
        return GoLiveTimes(unavailable=f"the import refused: {done.issues[0]}")
    times.import_s = marks["committed"] - started
    times.materialise_s = finished - marks["committed"]
    times.plans, times.doses = done.plans, done.administrations
    times.items = MonitoringItem.objects.count() - items_before
    return times
