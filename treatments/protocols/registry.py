"""Lookup of protocol versions by drug, label region and date."""

from __future__ import annotations

from datetime import date

from .drugs import PROTOCOLS
from .schema import Protocol, Region
from .validation import protocol_problems


def _load() -> tuple[Protocol, ...]:
    problems = [problem for p in PROTOCOLS for problem in protocol_problems(p)]
    seen: set[tuple[str, Region, str]] = set()
    for p in PROTOCOLS:
        identity = (p.drug_key, p.label_region, p.version)
        if identity in seen:
            problems.append(f"duplicate protocol version {p.label}")
        seen.add(identity)
    if problems:
        raise ValueError("Invalid protocol catalogue:\n" + "\n".join(problems))
    return PROTOCOLS


_PROTOCOLS = _load()


def all_protocols() -> list[Protocol]:
    """Every protocol version of every drug and region."""
    return list(_PROTOCOLS)


def drug_keys() -> list[str]:
    """Drug keys in the catalogue, including ``general``, sorted."""
    return sorted({p.drug_key for p in _PROTOCOLS})


def regions_for(drug_key: str) -> list[Region]:
    regions = sorted({p.label_region for p in _PROTOCOLS if p.drug_key == drug_key})
    if not regions:
        raise LookupError(f"Unknown drug {drug_key!r}; known drugs: {', '.join(drug_keys())}")
    return regions


def get_protocol(drug_key: str, region: Region | str, on: date | None = None) -> Protocol:
    """The latest version of the drug's protocol for ``region`` in effect on ``on`` (default today).

    Raises LookupError for an unknown drug, a region without a protocol for that drug (e.g.
    natalizumab SC in the US), or a date before the first version took effect.
    """
    available = regions_for(drug_key)
    try:
        wanted = Region(region)
    except ValueError:
        raise LookupError(
            f"Unknown label region {region!r}; known regions: {', '.join(r.value for r in Region)}"
        ) from None
    if wanted not in available:
        raise LookupError(
            f"No {wanted} protocol for {drug_key!r}; available regions: "
            f"{', '.join(r.value for r in available)}"
        )
    day = on or date.today()
    versions = [
        p
        for p in _PROTOCOLS
        if p.drug_key == drug_key and p.label_region == wanted and p.effective_from <= day
    ]
    if not versions:
        raise LookupError(f"No {wanted} protocol for {drug_key!r} in effect on {day.isoformat()}")
    return max(versions, key=lambda p: p.effective_from)
