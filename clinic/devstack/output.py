"""What every part of the dev stack shares: how it speaks, fails and checks for root."""

from __future__ import annotations

import os
import sys


def say(message: str) -> None:
    print(f"[myelin] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[myelin] ERROR: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def is_root() -> bool:
    return os.geteuid() == 0


DEMO_LOGINS = [
    ("Neurologist", "dr.okafor"),
    ("MS nurse", "nurse.patel"),
    ("Physiotherapist", "physio.lindqvist"),
    ("Psychologist", "psych.moreau"),
    ("Clinic admin", "admin.chen"),
    ("Neurologist, other team (sees none of team A)", "dr.santos"),
]


def running_banner(url: str) -> list[str]:
    """What `make run` prints once the stack serves: where, and who to sign in as."""
    return [
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
