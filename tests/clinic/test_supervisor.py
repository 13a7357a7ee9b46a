"""`make run` keeps its programs running: a dead worker or beat is started again, with a message;
one that keeps dying is given up on, and only the web server's loss stops the whole stack."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clinic.supervisor import Program, RestartPolicy, Supervisor

QUICK = RestartPolicy(first_delay=0.05, max_delay=1.0, max_restarts=3, stable_after=30.0)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def sleeper(name: str) -> Program:
    return Program(name, python("import time; time.sleep(60)"))


def counting(starts: Path, then: str) -> list[str]:
    """A program that notes each start in a file, then runs `then`."""
    return python(f"open({str(starts)!r}, 'a').write('started\\n'); {then}")


def starts_in(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[Callable[..., tuple[Supervisor, list[str]]]]:
    made: list[Supervisor] = []

    def make(*programs: Program, policy: RestartPolicy = QUICK) -> tuple[Supervisor, list[str]]:
        messages: list[str] = []
        supervisor = Supervisor(programs, env={}, cwd=tmp_path, policy=policy, say=messages.append)
        supervisor.start()
        made.append(supervisor)
        return supervisor, messages

    yield make
    for supervisor in made:
        supervisor.stop(timeout=2)


def run_until(supervisor: Supervisor, done: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        supervisor.check()
        time.sleep(0.01)


def test_a_worker_that_dies_once_is_started_again_with_a_message(supervise, tmp_path):
    starts = tmp_path / "worker-starts"
    # Dies at its first start, as a worker that lost its broker would; stays up the second time.
    first_time = f"open({str(starts)!r}).read().count('started') == 1"
    worker = Program(
        "worker",
        counting(starts, f"import sys, time; sys.exit(3) if {first_time} else time.sleep(60)"),
    )
    supervisor, messages = supervise(sleeper("web"), worker)
    web = supervisor.process("web")

    run_until(supervisor, lambda: starts_in(starts) == 2)
    time.sleep(0.2)
    supervisor.check()

    assert supervisor.process("worker").poll() is None  # running again
    assert supervisor.process("web") is web  # the others were never touched
    assert web.poll() is None
    assert messages == [
        "worker exited with code 3; starting it again in 0.05 s (restart 1 of at most 3 in a row).",
        "Starting worker again.",
    ]
    assert supervisor.given_up == []


def test_the_pause_doubles_and_a_program_that_keeps_dying_is_given_up(supervise, tmp_path):
    starts = tmp_path / "beat-starts"
    beat = Program(
        "beat", counting(starts, "import sys; sys.exit(1)"), purpose="the periodic schedule"
    )
    supervisor, messages = supervise(sleeper("web"), beat)

    run_until(supervisor, lambda: supervisor.given_up == ["beat"])
    time.sleep(0.3)
    supervisor.check()

    assert starts_in(starts) == 4  # the first start and three restarts, then no more
    pauses = [m for m in messages if "starting it again in" in m]
    assert [m.split(" in ")[1].split(" s ")[0] for m in pauses] == ["0.05", "0.1", "0.2"]
    assert messages[-1] == (
        "beat exited with code 1 and has died 4 times in a row, each within 30 s of starting: "
        "not starting it again. Its output above says why. The rest keeps running, but the "
        "periodic schedule will not. Fix the cause and start `make run` again."
    )
    assert not supervisor.essential_lost  # a demo without beat still serves its pages
    assert supervisor.process("web").poll() is None


def test_a_web_server_that_keeps_dying_stops_the_stack(supervise):
    web = Program("web", python("import sys; sys.exit(2)"), essential=True)
    supervisor, messages = supervise(web, sleeper("worker"))

    run_until(supervisor, lambda: supervisor.essential_lost)

    assert supervisor.given_up == ["web"]
    assert "Stopping the rest." in messages[-1]


def test_a_program_that_ran_a_while_before_dying_starts_its_count_afresh(supervise, tmp_path):
    starts = tmp_path / "worker-starts"
    # Each run lasts longer than stable_after, so each death is the first in a row.
    policy = RestartPolicy(first_delay=0.01, max_restarts=1, stable_after=0.2)
    worker = Program("worker", counting(starts, "import time, sys; time.sleep(0.3); sys.exit(1)"))
    supervisor, messages = supervise(worker, policy=policy)

    run_until(supervisor, lambda: starts_in(starts) == 4)

    assert supervisor.given_up == []
    assert all("restart 1 of at most 1" in m for m in messages if "starting it again" in m)


def test_a_program_killed_by_a_signal_is_named_as_such(supervise):
    worker = Program("worker", python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    supervisor, messages = supervise(worker)

    run_until(supervisor, lambda: bool(messages))

    assert messages[0].startswith("worker was killed by SIGKILL; starting it again in 0.05 s")


def test_stop_ends_every_program_even_one_that_ignores_sigterm(supervise):
    stubborn = Program(
        "beat",
        python(
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
        ),
    )
    supervisor, _ = supervise(sleeper("web"), stubborn)
    time.sleep(0.5)  # let the stubborn one install its handler

    started = time.monotonic()
    supervisor.stop(timeout=1)

    assert time.monotonic() - started < 5
    assert supervisor.process("web").returncode == -signal.SIGTERM
    assert supervisor.process("beat").returncode == -signal.SIGKILL
