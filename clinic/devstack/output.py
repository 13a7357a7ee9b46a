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
