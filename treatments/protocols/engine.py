"""The pure schedule engine: protocol + plan events -> dated monitoring items.

Identity of an item is ``(rule_key, anchor_on, occurrence)``, where ``occurrence`` is the item's
offset from its anchor in the rule's unit ("month 3" is 3). Because neither depends on the horizon,
on later events or on list positions, re-running ``schedule`` after new events returns the same
triple for every item that is still owed, and the caller can upsert on it.

What may disappear on a re-run, by design:
* items due after ``stopped_on`` once a stop is recorded, unless the rule survives the stop;
* items of a ``last_dose`` series that fall after the next dose ("before the next dose" duties
  that the new dose supersedes; the new dose starts its own series).
The caller should close open rows that the engine no longer returns.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .investigations import get_investigation
from .schema import (
    Anchor,
    BaselineCheck,
    Comparator,
    Condition,
    MonitoringRule,
    PeriodUnit,
    Protocol,
    TreatmentGap,
)
from .switching import WashoutGuidance, washout_guidance

__all__ = [
    "ChecklistItem",
    "DueItem",
    "PlanEvents",
    "WashoutGuidance",
    "add_months",
    "add_period",
    "baseline_checklist",
    "restarts",
    "schedule",
    "triggered_conditions",
    "washout_guidance",
]

REVIEW_INTERVAL_SETTING = "review_interval_months"
REVIEW_INTERVAL_RANGE = range(3, 7)


@dataclass(frozen=True, slots=True)
class PlanEvents:
    """What has happened on one DMT plan. Dates only; order within tuples does not matter."""

    first_dose_on: date | None
    doses: tuple[date, ...] = ()
    courses: tuple[date, ...] = ()
    stopped_on: date | None = None
    interruptions: tuple[tuple[date, date], ...] = ()
    """(first day without the drug, day it was taken again) for each interruption."""

    @property
    def started_on(self) -> date | None:
        candidates = [d for d in (self.first_dose_on, *self.doses, *self.courses) if d is not None]
        return min(candidates, default=None)

    @property
    def dose_dates(self) -> tuple[date, ...]:
        """Every administration: recorded doses plus the first dose."""
        dates = set(self.doses)
        if self.first_dose_on is not None:
            dates.add(self.first_dose_on)
        return tuple(sorted(dates))

    @property
    def course_dates(self) -> tuple[date, ...]:
        """Course starts; a plan with a first dose but no recorded course is on course 1."""
        if self.courses:
            return tuple(sorted(set(self.courses)))
        return (self.first_dose_on,) if self.first_dose_on is not None else ()

    @property
    def last_dose_on(self) -> date | None:
        candidates = [*self.dose_dates, *self.courses]
        return max(candidates, default=None)


@dataclass(frozen=True, slots=True)
class DueItem:
    rule_key: str
    investigation: str
    due_on: date
    window_before_days: int
    window_after_days: int
    anchor: str
    anchor_on: date
    occurrence: int
    explanation: str
    survives_stop: bool
    source: str

    @property
    def key(self) -> tuple[str, date, int]:
        return (self.rule_key, self.anchor_on, self.occurrence)

    @property
    def window_opens_on(self) -> date:
        return self.due_on - timedelta(days=self.window_before_days)

    @property
    def window_closes_on(self) -> date:
        return self.due_on + timedelta(days=self.window_after_days)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    investigation: str
    name: str
    required_by_label: bool
    within_days: int | None
    note: str
    source: str
    gate: str
    """Text of a dose gate on this investigation before the first dose, if any."""


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's end: Jan 31 + 1 month = Feb 28 (29 in leap years)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_period(day: date, amount: int, unit: PeriodUnit) -> date:
    match unit:
        case PeriodUnit.MONTHS:
            return add_months(day, amount)
        case PeriodUnit.WEEKS:
            return day + timedelta(weeks=amount)
        case PeriodUnit.DAYS:
            return day + timedelta(days=amount)
    raise ValueError(f"Unknown period unit {unit!r}")


def schedule(
    protocol: Protocol,
    events: PlanEvents,
    *,
    horizon: date,
    review_interval_months: int = 6,
    conditions: Collection[Condition | str] = (),
) -> list[DueItem]:
    """Every monitoring item the protocol asks for, given what has happened on the plan.

    Finite series (explicit offsets, or repeats with an end that can be resolved) are returned in
    full; open-ended repeats stop at ``horizon``. Rules with ``when`` conditions are only scheduled
    if one of them is in ``conditions``. Items are sorted by due date, then rule key.
    """
    if review_interval_months not in REVIEW_INTERVAL_RANGE:
        raise ValueError(
            f"review_interval_months must be between 3 and 6, got {review_interval_months}"
        )
    if events.started_on is None:
        return []
    active = {Condition(c) for c in conditions}
    settings = {REVIEW_INTERVAL_SETTING: review_interval_months}
    items: list[DueItem] = []
    for rule in protocol.monitoring_rules:
        if rule.when and not active.intersection(rule.when):
            continue
        items.extend(_rule_items(protocol, rule, events, horizon, settings))
    items.sort(key=lambda item: (item.due_on, item.rule_key, item.anchor_on))
    return items


def baseline_checklist(protocol: Protocol) -> list[ChecklistItem]:
    """Pre-treatment checks, label-required first, each with any gate before the first dose."""
    gates: dict[str, list[str]] = {}
    for gate in protocol.dose_gates:
        if gate.from_occurrence == 1:
            gates.setdefault(gate.investigation, []).append(gate.text)

    def item(check: BaselineCheck) -> ChecklistItem:
        return ChecklistItem(
            investigation=check.investigation,
            name=get_investigation(check.investigation).name,
            required_by_label=check.required_by_label,
            within_days=check.within_days,
            note=check.note,
            source=check.source,
            gate="; ".join(gates.get(check.investigation, ())),
        )

    checks = sorted(protocol.baseline_checks, key=lambda c: not c.required_by_label)
    return [item(check) for check in checks]


def restarts(gaps: tuple[TreatmentGap, ...], events: PlanEvents) -> list[date]:
    """The days the drug was taken again after an interruption that one of ``gaps`` counts
    (§3.6: fingolimod's repeated first-dose observation). Day 1 is the first dose."""
    first = events.started_on
    if first is None or not gaps:
        return []
    found = []
    for gap_from, resumed_on in sorted(events.interruptions):
        day = (gap_from - first).days + 1
        missed = (resumed_on - gap_from).days
        if any(
            g.from_day <= day and (g.to_day is None or day <= g.to_day) and missed >= g.min_days
            for g in gaps
        ):
            found.append(resumed_on)
    return found


_TRIGGER_OPS = {
    Comparator.GT: lambda value, limit: value > limit,
    Comparator.GE: lambda value, limit: value >= limit,
    Comparator.LT: lambda value, limit: value < limit,
    Comparator.LE: lambda value, limit: value <= limit,
}


def triggered_conditions(
    protocol: Protocol, baseline: Mapping[str, float], *, sex: str
) -> set[Condition]:
    """The conditions the protocol's ``condition_triggers`` switch on, given the baseline value
    of each analyte (the last one on or before the first dose; the caller picks it)."""
    found: set[Condition] = set()
    for trigger in protocol.condition_triggers:
        if trigger.sex and sex in ("male", "female") and trigger.sex != sex:
            continue
        value = baseline.get(trigger.analyte)
        if value is None:
            continue
        op = _TRIGGER_OPS.get(trigger.comparator)
        if op is None:
            raise ValueError(f"{protocol.label}: trigger comparator {trigger.comparator}")
        if op(value, trigger.threshold) and (trigger.below is None or value < trigger.below):
            found.add(trigger.condition)
    return found


# --- internals -----------------------------------------------------------------------------------


def _anchor_dates(rule: MonitoringRule, events: PlanEvents) -> list[date]:
    match rule.anchor:
        case Anchor.FIRST_DOSE:
            dates = [events.started_on] if events.started_on else []
        case Anchor.EACH_DOSE:
            dates = list(events.dose_dates)
        case Anchor.EACH_COURSE:
            dates = list(events.course_dates)
        case Anchor.LAST_DOSE:
            dates = sorted({*events.dose_dates, *events.courses})
        case Anchor.STOP:
            dates = [events.stopped_on] if events.stopped_on else []
        case Anchor.RESTART:
            dates = restarts(rule.restart_after, events)
    if rule.anchor_merge_days:
        merged: list[date] = []
        for day in dates:
            if not merged or (day - merged[-1]).days > rule.anchor_merge_days:
                merged.append(day)
        dates = merged
    if rule.anchor_limit is not None:
        dates = dates[: rule.anchor_limit]
    return dates


def _resolve_until(rule: MonitoringRule, events: PlanEvents, anchor_on: date) -> date | None:
    if rule.until is None:
        return None
    until = rule.until
    if until.anchor == rule.anchor:
        base: date | None = anchor_on
    elif until.anchor == Anchor.FIRST_DOSE:
        base = events.started_on
    elif until.anchor == Anchor.LAST_DOSE:
        base = events.last_dose_on
    elif until.anchor == Anchor.STOP:
        base = events.stopped_on
    else:
        raise ValueError(f"Rule {rule.key}: 'until' cannot be relative to {until.anchor}")
    return add_period(base, until.amount, until.unit) if base is not None else None


def _offsets(
    rule: MonitoringRule, anchor_on: date, last_on: date | None, settings: dict[str, int]
) -> Iterator[int]:
    """Offsets in ``rule.unit``; a repeat runs until its due date passes ``last_on``."""
    yield from sorted(set(rule.offsets))
    every = rule.repeat_every
    if every is None and rule.interval_setting is not None:
        every = settings[rule.interval_setting]
    if every is None:
        return
    if every < 1:
        raise ValueError(f"Rule {rule.key}: repeat interval must be positive")
    offset = rule.repeat_start
    if offset is None:
        offset = max(rule.offsets, default=0) + every
    if last_on is None:
        raise ValueError(f"Rule {rule.key}: a repeat needs an end or a horizon")
    while add_period(anchor_on, offset, rule.unit) <= last_on:
        if offset not in rule.offsets:
            yield offset
        offset += every


def _rule_items(
    protocol: Protocol,
    rule: MonitoringRule,
    events: PlanEvents,
    horizon: date,
    settings: dict[str, int],
) -> list[DueItem]:
    anchors = _anchor_dates(rule, events)
    stop_limit = None if rule.survives_stop or rule.anchor == Anchor.STOP else events.stopped_on
    items = []
    for index, anchor_on in enumerate(anchors):
        until_on = _resolve_until(rule, events, anchor_on)
        # A "before the next dose" series ends where the next dose starts its own series.
        next_on = None
        if rule.anchor == Anchor.LAST_DOSE and index + 1 < len(anchors):
            next_on = anchors[index + 1]
        bounds = [d for d in (until_on, next_on, stop_limit) if d is not None]
        if rule.is_recurring and until_on is None and next_on is None:
            bounds.append(horizon)  # open-ended: only as far as the caller looks ahead
        last_on = min(bounds, default=None)
        for offset in _offsets(rule, anchor_on, last_on, settings):
            due_on = add_period(anchor_on, offset, rule.unit)
            if last_on is not None and due_on > last_on:
                continue
            items.append(_item(protocol, rule, anchor_on, index, offset, due_on, until_on))
    return items


def _item(
    protocol: Protocol,
    rule: MonitoringRule,
    anchor_on: date,
    index: int,
    offset: int,
    due_on: date,
    until_on: date | None,
) -> DueItem:
    source = "; ".join(rule.sources)
    anchor = f"{_anchor_phrase(rule, index)} on {anchor_on:%Y-%m-%d}"
    if offset == 0:
        when = f"on the day of the {anchor}"
    else:
        unit = {PeriodUnit.MONTHS: "month", PeriodUnit.WEEKS: "week", PeriodUnit.DAYS: "day"}
        when = f"{unit[rule.unit]} {offset} after the {anchor}"
    explanation = f"{rule.text} ({source}; protocol {protocol.label}), {when}"
    if rule.until is not None and until_on is not None and rule.until.anchor != rule.anchor:
        explanation += f"; continues until {until_on:%Y-%m-%d}"
    return DueItem(
        rule_key=rule.key,
        investigation=rule.investigation,
        due_on=due_on,
        window_before_days=rule.window_before_days,
        window_after_days=rule.window_after_days,
        anchor=rule.anchor.value,
        anchor_on=anchor_on,
        occurrence=offset,
        explanation=explanation + ".",
        survives_stop=rule.survives_stop or rule.anchor == Anchor.STOP,
        source=source,
    )


def _anchor_phrase(rule: MonitoringRule, index: int) -> str:
    match rule.anchor:
        case Anchor.FIRST_DOSE:
            return "first dose"
        case Anchor.EACH_DOSE:
            return f"dose {index + 1}"
        case Anchor.EACH_COURSE:
            return f"start of course {index + 1}"
        case Anchor.LAST_DOSE:
            return "most recent dose"
        case Anchor.STOP:
            return "stop"
        case Anchor.RESTART:
            return "restart after an interruption"
    return str(rule.anchor)
