"""When an alert rule judges a result, and which course of a course-based drug a result
belongs to (``AlertRule.applies`` / ``at_rule``; see `treatments.protocols.schema`)."""

from __future__ import annotations

from datetime import date, timedelta

from treatments.protocols import (
    AlertRule,
    Anchor,
    Applies,
    PlanEvents,
    Protocol,
    schedule,
)

Answered = tuple[str, int] | None
"""The (rule key, occurrence) of the plan's monitoring item a result closed, if any."""


def rule_applies(
    rule: AlertRule,
    taken_on: date,
    *,
    protocol: Protocol,
    events: PlanEvents,
    answered: Answered,
) -> bool:
    """Whether the rule judges a sample taken on `taken_on` (``AlertRule.applies`` and
    ``at_rule``; see the schema). A sample taken on the day of the first dose is pre-dose."""
    first_dose_on = events.started_on
    if rule.applies == Applies.BEFORE_FIRST_DOSE:
        if first_dose_on is not None and taken_on > first_dose_on:
            return False
    elif rule.applies == Applies.AFTER_FIRST_DOSE and (
        first_dose_on is None or taken_on <= first_dose_on
    ):
        return False
    if not rule.at_rule:
        return True
    if answered is not None:
        key, occurrence = answered
        if key == rule.at_rule:
            return rule.at_occurrence is None or occurrence == rule.at_occurrence
    # Not answering an item of the rule (an outside lab, a late entry): the window decides.
    horizon = taken_on + timedelta(days=400)
    return any(
        item.rule_key == rule.at_rule
        and (rule.at_occurrence is None or item.occurrence == rule.at_occurrence)
        and item.window_opens_on <= taken_on <= item.window_closes_on
        for item in schedule(protocol, events, horizon=horizon)
    )


def reading_context(
    protocol: Protocol, events: PlanEvents, taken_on: date, answered: Answered
) -> str:
    """For a drug given in courses, which course the sample belongs to ("course 2, started
    ..."), and the month of the count it answers; empty for other drugs."""
    if not protocol.has_courses:
        return ""
    starts = [day for day in events.course_dates if day <= taken_on]
    if not starts:
        return "before course 1"
    context = f"course {len(starts)}, started {starts[-1]:%d %b %Y}"
    if answered is not None:
        key, occurrence = answered
        rule = next((r for r in protocol.monitoring_rules if r.key == key), None)
        if rule is not None and rule.anchor == Anchor.EACH_COURSE and occurrence:
            context = f"month {occurrence} count of {context}"
    return context
