"""`make bench`: build (or reuse) the clinic-sized bench database and print every figure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from clinic.devstack import ROOT, VAR, Stack, manage, services
from clinic.devstack.debian import ensure_debian_package
from clinic.devstack.output import say

# 9,000 patients give about a million monitoring items with the generator's DMT mix; about
# five minutes of generation on a 2-core machine, well inside make bench's 20 minutes.
PATIENTS = int(os.environ.get("MYELIN_BENCH_PATIENTS", "9000"))
BENCH_PARAMETERS = {
    "patients": PATIENTS,
    "seed": int(os.environ.get("MYELIN_BENCH_SEED", "1")),
    "clinicians_per_team": "4,3,2",
    "caseload": 100,
    "small_caseload": 10,
}


def bench_database(patients: int) -> str:
    """One database per clinic size, so the 9,000- and the 90,000-patient clinics can both be
    kept and reused (the larger takes the better part of an hour to generate)."""
    return "myelin_bench" if patients == 9000 else f"myelin_bench_{patients}"


def cmd_bench() -> int:
    """Build (or reuse) the clinic-sized bench database, then print every figure.

    `MYELIN_BENCH_STEPS` (space-separated step names of treatments.bench.run, e.g. "pages load")
    runs only those; "none" only builds the database."""
    started = time.monotonic()
    bench_db = bench_database(PATIENTS)
    with services() as stack:
        base, _, _ = stack.database_url.rpartition("/")
        bench_url = f"{base}/{bench_db}"
        marker = VAR / f"bench-marker-{bench_db}.json"
        wanted = json.dumps(BENCH_PARAMETERS, sort_keys=True)
        env = {**os.environ, **stack.env(), "DATABASE_URL": bench_url}
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [bench_db]
            ).fetchone()
            reuse = exists is not None and marker.exists() and marker.read_text() == wanted
            if not reuse:
                marker.unlink(missing_ok=True)
                conn.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {bench_db}")
        bench_stack = Stack(bench_url, stack.redis_url)
        manage(
            bench_stack, "migrate", "--no-input", quiet=True
        )  # also brings a reused one up to date
        if reuse:
            say(f"Reusing the bench database {bench_db} (same parameters).")
        else:
            say(f"Building the bench database {bench_db}: {wanted}")
            p = BENCH_PARAMETERS
            manage(
                bench_stack,
                "generate_clinic",
                f"--patients={p['patients']}",
                f"--seed={p['seed']}",
                f"--clinicians-per-team={p['clinicians_per_team']}",
                f"--caseload={p['caseload']}",
                f"--small-caseload={p['small_caseload']}",
            )
            marker.write_text(wanted)
        manage(bench_stack, "collectstatic", "--no-input", quiet=True)
        # The inbox load test drives gunicorn with wrk (a C load generator, so the client does
        # not take the server's CPU); without it the bench falls back to a Python client.
        ensure_debian_package("wrk", "wrk", "the inbox load test")
        steps = os.environ.get("MYELIN_BENCH_STEPS", "").split()
        if steps == ["none"]:
            say(f"Bench database {bench_db} ready; no figures asked for.")
            return 0
        result = subprocess.run(
            [sys.executable, "-m", "treatments.bench.run", *steps],
            env={
                **env,
                "DJANGO_DEBUG": "false",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
                "MYELIN_BENCH_PARAMETERS": wanted,
            },
            cwd=ROOT,
            check=False,
        )
    say(f"make bench took {time.monotonic() - started:.0f} s.")
    return result.returncode
