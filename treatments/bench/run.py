"""The benchmark figures `make bench` prints, as a table and as one JSON line per figure.

Run by `python -m clinic.devstack bench` against the generated bench database, with DEBUG off.
Pages are timed through the Django test client (every middleware, a real signed-in session of a
generated user); the inbox load test goes through gunicorn on loopback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import django

from treatments.bench import figures
from treatments.bench.figures import figure, percentile
from treatments.bench.sweep import DUE_SQL, SWEEP_DUE, on_scratch_copy, sweep

ROOT = Path(__file__).resolve().parent.parent.parent
REPEAT = int(os.environ.get("MYELIN_BENCH_REPEAT", "30"))
LOAD_REQUESTS = int(os.environ.get("MYELIN_BENCH_LOAD_REQUESTS", "600"))
LOAD_CONCURRENCY = int(os.environ.get("MYELIN_BENCH_CONCURRENCY", "8"))
LOAD_SECONDS = int(os.environ.get("MYELIN_BENCH_LOAD_SECONDS", "20"))


def _sign_in(username: str) -> Any:
    from django.test import Client

    from treatments.bench.generate import BENCH_PASSWORD

    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": BENCH_PASSWORD})
    assert response.status_code == 302, (
        f"sign-in of a generated user failed ({response.status_code})"
    )
    return client


def time_page(label: str, username: str, url: str, *, target_ms: float = 150) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _sign_in(username)
    client.get(url)
    times: list[float] = []
    queries = 0
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, f"{label}: {response.status_code}"
        queries = len(captured.captured_queries)
    p95 = percentile(times, 95)
    figure(f"{label} median", statistics.median(times), "ms")
    figure(f"{label} p95", p95, "ms", f"<= {target_ms:g} ms", p95 <= target_ms)
    budget = 10 if label.startswith(("caseload", "patient page")) else None
    figure(
        f"{label} queries",
        float(queries),
        "queries",
        "<= 10" if budget else "",
        queries <= budget if budget else None,
    )


def pages() -> None:
    from django.db.models import Count

    from clinic.accounts.models import Role, User
    from patients.models import Patient
    from treatments.models import Alert

    generated = User.objects.filter(email__endswith="@bench.invalid")
    for size in (10, 100):
        neuro = (
            generated.filter(role=Role.NEUROLOGIST)
            .annotate(n=Count("neurology_patients"))
            .filter(n__gte=size * 8 // 10, n__lte=size * 12 // 10)
            .order_by("id")
            .first()
        )
        if neuro is None:
            figure(f"caseload at {size}/clinician", "not available", "", "no such clinician")
            continue
        patient = (
            Patient.objects.filter(neurologist=neuro)
            .annotate(n=Count("monitoring_items"))
            .order_by("-n")
            .first()
        )
        nurse = (
            generated.filter(role=Role.NURSE, care_teams__patients__neurologist=neuro)
            .order_by("id")
            .first()
        )
        time_page(f"caseload at {size}/clinician", neuro.username, "/patients/caseload/?scope=mine")
        if patient is not None:
            time_page(
                f"patient page at {size}/clinician", neuro.username, patient.get_absolute_url()
            )
        if nurse is not None:
            time_page(
                f"nurse worklist at {size}/clinician", nurse.username, "/treatments/worklist/"
            )
    busiest = (
        generated.filter(role=Role.NURSE).annotate(n=Count("alerts")).order_by("-n", "id").first()
    )
    quiet = (
        generated.filter(role=Role.NURSE)
        .exclude(pk__in=Alert.objects.active().values("owner"))
        .order_by("id")
        .first()
    )
    if busiest is not None:
        figure("alerts owned by the busiest nurse", float(busiest.n), "alerts")
        time_page("alert inbox, many alerts", busiest.username, "/alerts/")
    if quiet is not None:
        time_page("alert inbox, no alerts", quiet.username, "/alerts/")


QUALITY_TARGET_MS = 500
BENCH_ADMIN = "bench.admin"


def quality() -> None:
    """The quality dashboard over its default period (the last 12 months): the whole clinic,
    as a clinic admin sees it, and one team, as its nurse sees it, each worked out afresh for
    every request; then the whole clinic as the page serves it again within
    QUALITY_CACHE_SECONDS (from the cache)."""
    from django.test.utils import override_settings

    from clinic.accounts.models import Role, User
    from treatments.bench.generate import BENCH_PASSWORD

    # The generator makes clinicians only; the clinic's admin is added here, once.
    admin, created = User.objects.get_or_create(
        username=BENCH_ADMIN, defaults={"role": Role.ADMIN, "first_name": "Bench"}
    )
    if created:
        admin.set_password(BENCH_PASSWORD)
        admin.save(update_fields=["password"])
    with override_settings(QUALITY_CACHE_SECONDS=0):
        time_page(
            "quality dashboard, whole clinic",
            admin.username,
            "/quality/",
            target_ms=QUALITY_TARGET_MS,
        )
    with override_settings(QUALITY_CACHE_SECONDS=600):
        time_page(
            "quality dashboard, whole clinic, kept figures",
            admin.username,
            "/quality/",
            target_ms=QUALITY_TARGET_MS,
        )
    nurse = (
        User.objects.filter(role=Role.NURSE, email__endswith="@bench.invalid")
        .order_by("id")
        .first()
    )
    if nurse is None:
        figure("quality dashboard, one team", "not available", "", "no generated nurse")
        return
    with override_settings(QUALITY_CACHE_SECONDS=0):
        time_page(
            "quality dashboard, one team", nurse.username, "/quality/", target_ms=QUALITY_TARGET_MS
        )


LAB_RESULTS = int(os.environ.get("MYELIN_BENCH_LAB_RESULTS", "10000"))
# Evaluation by Celery workers beside the import, as `make run` and production run it (0: in
# the importing process).
LAB_WORKERS = int(os.environ.get("MYELIN_BENCH_LAB_WORKERS", "2"))


def lab_import() -> None:
    """HL7 v2 results imported into the clinic, evaluation included (treatments.bench.lab_import),
    on a scratch copy: the import writes."""
    from treatments.bench.lab_import import measure

    rate = on_scratch_copy(functools.partial(measure, LAB_RESULTS, workers=LAB_WORKERS))
    evaluated_by = f"{LAB_WORKERS} Celery workers" if LAB_WORKERS else "inline"
    figure(f"HL7 import ({rate.results:,} results, {rate.messages:,} messages)", rate.seconds, "s")
    figure("HL7 import, messages stored (before evaluation ends)", rate.import_seconds, "s")
    figure(
        f"HL7 import rate (evaluation {evaluated_by})",
        rate.per_second,
        "results/s",
        ">= 300/s",
        rate.per_second >= 300,
    )
    if rate.held:
        figure("HL7 messages held for review", float(rate.held), "messages", "0", False)


def _rss_peak(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load() -> None:
    """The inbox under concurrent requests through gunicorn (all middleware, DEBUG off)."""
    import socket

    from django.db.models import Count

    from clinic.accounts.models import Role, User

    nurse = (
        User.objects.filter(email__endswith="@bench.invalid", role=Role.NURSE)
        .annotate(n=Count("alerts"))
        .order_by("-n", "id")
        .first()
    )
    if nurse is None:
        figure("inbox throughput", "not available", "", "no generated nurse")
        return
    client = _sign_in(nurse.username)
    cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "clinic.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/alerts/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/live", timeout=2)
                break
            except Exception:
                time.sleep(0.3)

        # The cookie must reach the inbox itself: a redirect to the sign-in page would be
        # counted as a fast success by a load tool.
        for _ in range(20):  # warm both workers (templates, connections)
            _check_signed_in(url, cookie)
        if shutil.which("wrk"):
            tool, rate, p99 = "wrk", *_wrk(url, cookie)
        else:
            tool, rate, p99 = "python", *_python_load(url, cookie)
        _check_signed_in(url, cookie)
        workers = [
            int(p)
            for p in subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        figure(f"inbox throughput ({tool})", rate, "req/s", ">= 100 req/s", rate >= 100)
        figure(f"inbox p99 under load ({tool})", p99, "ms", "<= 250 ms", p99 <= 250)
        peak = max((_rss_peak(pid) for pid in workers), default=0.0)
        figure("web worker peak RSS", peak, "MB", "< 120 MB", peak < 120)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _check_signed_in(url: str, cookie: str) -> int:
    """The inbox answers this cookie itself (not a redirect to sign-in); its size in bytes."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback http
        if response.status != 200 or response.url != url:
            raise RuntimeError("the load test is not signed in")
        return len(response.read()) + sum(len(k) + len(v) + 4 for k, v in response.getheaders())


def _wrk(url: str, cookie: str) -> tuple[float, float]:
    """A bounded wrk run: LOAD_SECONDS with LOAD_CONCURRENCY connections; (req/s, p99 ms).

    wrk counts a redirect as a success, so the average response size is checked against a
    real inbox page: a run of short redirects to the sign-in page is refused."""
    page_bytes = _check_signed_in(url, cookie)
    done = subprocess.run(
        [
            "wrk",
            f"--connections={LOAD_CONCURRENCY}",
            "--threads=2",
            f"--duration={LOAD_SECONDS}s",
            "--timeout=10s",
            "--latency",
            f"--header=Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate, p99, average_bytes = parse_wrk(done.stdout)
    if average_bytes < 0.8 * page_bytes:
        raise RuntimeError("wrk's responses were smaller than the inbox page (redirects?)")
    return rate, p99


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


_WRK_SIZES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_wrk(output: str) -> tuple[float, float, float]:
    """Requests per second, the 99th percentile latency in ms and the average response size in
    bytes, from `wrk --latency`; a run in which any request failed is refused."""
    rate = p99 = average = None
    for line in output.splitlines():
        words = line.split()
        if " requests in " in line and line.rstrip().endswith(" read"):
            size = words[-2]
            number = size.rstrip("BKMG")
            average = float(number) * _WRK_SIZES[size[len(number) :]] / int(words[0])
        elif line.startswith("Requests/sec:"):
            rate = float(words[1])
        elif words[:1] == ["99%"]:
            number = words[1].rstrip("usm")
            unit = words[1][len(number) :]
            p99 = float(number) * _WRK_UNITS[unit]
        elif "Non-2xx or 3xx responses" in line or "Socket errors" in line:
            raise RuntimeError(f"wrk saw failed requests: {line.strip()}")
    if rate is None or p99 is None or average is None:
        raise RuntimeError("could not read wrk's output")
    return rate, p99, average


def _python_load(url: str, cookie: str) -> tuple[float, float]:
    """Fallback when wrk is not installed: threads of urllib requests (the client then competes
    with the server for the CPU, so the figures are pessimistic)."""

    def one(_: int) -> float:
        request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback http
            response.read()
            assert response.status == 200
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(LOAD_CONCURRENCY) as pool:
        list(pool.map(one, range(40)))  # warm-up
        started = time.perf_counter()
        latencies = list(pool.map(one, range(LOAD_REQUESTS)))
        elapsed = time.perf_counter() - started
    return LOAD_REQUESTS / elapsed, percentile(latencies, 99)


SWEEP_MEMORY_SCRIPT = """
import resource, django
django.setup()
from django.db import connection
from django.utils import timezone
from treatments.monitoring.sweeps import sweep_overdue
today = timezone.localdate()
import pghistory
with pghistory.context(job="bench_make_due"), connection.cursor() as cursor:
    cursor.execute(DUE_SQL, [today, today, today, SWEEP_DUE])
sweep_overdue(at=timezone.now())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def sweep_worker_memory() -> None:
    """Peak RSS of a fresh worker-like process running the overdue sweep over 300,000 due
    items, on a scratch copy of the bench database."""
    import subprocess
    import sys

    script = SWEEP_MEMORY_SCRIPT.replace("DUE_SQL", repr(DUE_SQL)).replace(
        "SWEEP_DUE", str(SWEEP_DUE)
    )

    def measure() -> float:
        from django.db import connection

        base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
        env = {**os.environ, "DATABASE_URL": f"{base}/{connection.settings_dict['NAME']}"}
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env
        )
        if done.returncode != 0:
            raise RuntimeError((done.stderr.strip().splitlines() or ["failed"])[-1][:80])
        return int(done.stdout.strip().splitlines()[-1]) / 1024

    try:
        peak_mb = on_scratch_copy(measure)
    except RuntimeError as exc:
        figure("sweep worker peak RSS", "not available", "", str(exc))
        return
    figure("sweep worker peak RSS", peak_mb, "MB", "< 200 MB", peak_mb < 200)


GOLIVE_PATIENTS = int(os.environ.get("MYELIN_BENCH_GOLIVE_PATIENTS", "5000"))


def golive() -> None:
    """The go-live import (issue #15) of 5,000 patients with their DMT history, dry run and
    all-or-nothing import, on a committed scratch copy; then their monitoring, materialised as
    the after-commit tasks do (treatments.bench.golive)."""
    from treatments.bench.golive import GoLiveTimes, time_golive

    timed: list[GoLiveTimes] = []

    def step() -> float:
        timed.append(time_golive(GOLIVE_PATIENTS))
        return timed[0].import_s

    on_scratch_copy(step)
    found = timed[0]
    if found.unavailable:
        figure("go-live import", "not available", "", found.unavailable)
        return
    label = f"{GOLIVE_PATIENTS:,} patients"
    figure(f"go-live dry run ({label})", found.dry_run_s, "s")
    figure(f"go-live import ({label})", found.import_s, "s", "< 60 s", found.import_s < 60)
    figure("go-live plans / doses and courses", f"{found.plans:,} / {found.doses:,}", "")
    figure(
        f"go-live monitoring after commit ({label})",
        found.materialise_s,
        "s",
        f"{found.items:,} items",
    )


def report(parameters: dict[str, Any]) -> None:
    print()
    print("Parameters: " + ", ".join(f"{k}={v}" for k, v in parameters.items()))
    print(f"{'Figure':<46} {'Value':>14} {'Unit':<8} {'Target':<14} Met")
    print("-" * 92)
    for f in figures.FIGURES:
        value = f"{f.value:,.2f}" if isinstance(f.value, float) else str(f.value)
        met = "" if f.met is None else ("yes" if f.met else "NO")
        print(f"{f.name:<46} {value:>14} {f.unit:<8} {f.target[:40]:<14} {met}")
    print()
    print(json.dumps({"parameters": parameters}))
    for f in figures.FIGURES:
        print(f.json())


def settle() -> None:
    """VACUUM a freshly generated database now rather than let autovacuum do it in the middle
    of a measurement (a million inserted rows trigger it), then write everything out."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        # Needs a superuser or pg_checkpoint (the dev stack's user is one).
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    parameters = json.loads(os.environ.get("MYELIN_BENCH_PARAMETERS", "{}"))
    parameters.update(repeat=REPEAT, load_requests=LOAD_REQUESTS, concurrency=LOAD_CONCURRENCY)
    # Latency figures first, on a settled database; the sweep steps copy and drop the whole
    # database, whose I/O would otherwise run under the load test.
    steps: list[Callable[[], None]] = [
        settle,
        pages,
        quality,
        load,
        sweep,
        sweep_worker_memory,
        lab_import,
        golive,
    ]
    # `python -m treatments.bench.run golive` runs only the steps named.
    if sys.argv[1:]:
        steps = [step for step in steps if step.__name__ in sys.argv[1:]]
    for step in steps:
        started = time.monotonic()
        step()
        print(f"[bench] {step.__name__} done in {time.monotonic() - started:.0f} s", flush=True)
    report(parameters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
