"""The DMT catalogue: every protocol version, one module per drug or drug family."""

from __future__ import annotations

from ..schema import Protocol
from . import (
    ahsct,
    alemtuzumab,
    anti_cd20,
    cladribine,
    fingolimod,
    fumarates,
    general,
    glatiramer,
    interferons,
    mitoxantrone,
    natalizumab,
    ponesimod,
    s1p_modulators,
    teriflunomide,
)

_MODULES = (
    general,
    interferons,
    glatiramer,
    teriflunomide,
    fumarates,
    fingolimod,
    s1p_modulators,
    ponesimod,
    natalizumab,
    anti_cd20,
    alemtuzumab,
    cladribine,
    mitoxantrone,
    ahsct,
)

PROTOCOLS: tuple[Protocol, ...] = tuple(p for module in _MODULES for p in module.PROTOCOLS)

__all__ = ["PROTOCOLS"]
