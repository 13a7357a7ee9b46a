"""Shared helpers for the protocol tests (pure Python, no database)."""

from __future__ import annotations

from datetime import date, timedelta

from treatments.protocols import DueItem, PlanEvents, Protocol, add_months, get_protocol, schedule

START = date(2026, 1, 5)
FAR = date(2036, 1, 1)


def months(n: int, start: date = START) -> date:
    return add_months(start, n)


def weeks(n: int, start: date = START) -> date:
    return start + timedelta(weeks=n)


def run(
    drug: str,
    region: str = "US",
    events: PlanEvents | None = None,
    *,
    horizon: date = FAR,
    **kwargs: object,
) -> list[DueItem]:
    protocol: Protocol = get_protocol(drug, region, on=START)
    return schedule(protocol, events or PlanEvents(START), horizon=horizon, **kwargs)  # type: ignore[arg-type]


def due(items: list[DueItem], rule_key: str) -> list[date]:
    return [item.due_on for item in items if item.rule_key == rule_key]


def by_rule(items: list[DueItem], rule_key: str) -> list[DueItem]:
    return [item for item in items if item.rule_key == rule_key]


def rule_keys(items: list[DueItem]) -> set[str]:
    return {item.rule_key for item in items}
