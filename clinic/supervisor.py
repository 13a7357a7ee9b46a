"""Keeps the processes of `make run` (web server, Celery worker and beat) running.

A process that dies is started again after a pause that doubles with each death in a row, with a
message saying so. One that keeps dying soon after it starts is given up on, with a message that
says what that means; when it is an essential one (the web server: without it there is nothing to
use) the caller stops the rest. No Django here: clinic.devstack runs before any settings exist.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Program:
    name: str
    argv: Sequence[str]
    # What stops working while it is down, for the message when it is given up on.
    purpose: str = ""
    essential: bool = False


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    # Deaths in a row, each soon after starting, before a program is given up on.
    max_restarts: int = 5
    # A program that ran this long was healthy: its next death starts the count afresh.
    stable_after: float = 60.0

    def delay(self, deaths: int) -> float:
        return float(min(self.first_delay * 2 ** (deaths - 1), self.max_delay))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class _Child:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.deaths = 0  # in a row, each before stable_after
        self.restart_at: float | None = None
        self.given_up = False


class Supervisor:
    def __init__(
        self,
        programs: Sequence[Program],
        *,
        env: Mapping[str, str],
        cwd: Path,
        policy: RestartPolicy | None = None,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = {program.name: _Child(program) for program in programs}
        self.env = dict(env)
        self.cwd = cwd
        self.policy = policy or RestartPolicy()
        self.say = say
        self.clock = clock

    def start(self) -> None:
        for child in self.children.values():
            self._spawn(child)

    def _spawn(self, child: _Child) -> None:
        child.proc = subprocess.Popen(list(child.program.argv), env=self.env, cwd=self.cwd)
        child.started_at = self.clock()
        child.restart_at = None

    def process(self, name: str) -> subprocess.Popen[bytes] | None:
        return self.children[name].proc

    @property
    def given_up(self) -> list[str]:
        return [name for name, child in self.children.items() if child.given_up]

    @property
    def essential_lost(self) -> bool:
        return any(c.given_up and c.program.essential for c in self.children.values())

    def check(self) -> None:
        """One round: notice the dead, start again those whose pause is over."""
        now = self.clock()
        for child in self.children.values():
            if child.proc is not None and (code := child.proc.poll()) is not None:
                self._died(child, code, now)
            if child.restart_at is not None and now >= child.restart_at:
                self.say(f"Starting {child.program.name} again.")
                self._spawn(child)

    def _died(self, child: _Child, returncode: int, now: float) -> None:
        name, policy = child.program.name, self.policy
        child.proc = None
        if now - child.started_at >= policy.stable_after:
            child.deaths = 0
        child.deaths += 1
        how = describe_exit(returncode)
        if child.deaths > policy.max_restarts:
            child.given_up = True
            consequence = (
                "Stopping the rest."
                if child.program.essential
                else f"The rest keeps running, but {child.program.purpose or name} will not."
            )
            self.say(
                f"{name} {how} and has died {child.deaths} times in a row, each within "
                f"{policy.stable_after:g} s of starting: not starting it again. Its output above "
                f"says why. {consequence} Fix the cause and start `make run` again."
            )
            return
        delay = policy.delay(child.deaths)
        child.restart_at = now + delay
        self.say(
            f"{name} {how}; starting it again in {delay:g} s "
            f"(restart {child.deaths} of at most {policy.max_restarts} in a row)."
        )

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to every running program, then SIGKILL to those still there after timeout."""
        running = [c.proc for c in self.children.values() if c.proc and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for child in self.children.values():
            child.restart_at = None
