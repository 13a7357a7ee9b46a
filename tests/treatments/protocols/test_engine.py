"""The schedule engine: calendar arithmetic, anchors, stops, horizon and stable item keys."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatments.protocols import (
    Anchor,
    MonitoringRule,
    PeriodUnit,
    PlanEvents,
    Protocol,
    Until,
    add_months,
    all_protocols,
    baseline_checklist,
    get_protocol,
    schedule,
)
from treatments.protocols.drugs._build import rule

from .helpers import FAR, START, due, months, run


def _protocol(*rules: MonitoringRule) -> Protocol:
    """A copy of a real protocol whose monitoring rules are replaced by ``rules``."""
    return replace(get_protocol("teriflunomide", "US", on=START), monitoring_rules=rules)


def _rule(key: str = "r", **kwargs: Any) -> MonitoringRule:
    return rule(key, "cbc", "Test rule", "CK", **kwargs)


# --- calendar ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 2, date(2026, 3, 31)),  # counted from the anchor, not chained
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2026, 1, 5), 48, date(2030, 1, 5)),
    ],
)
def test_add_months_is_calendar_correct(day: date, n: int, expected: date) -> None:
    assert add_months(day, n) == expected


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 240))
def test_add_months_never_overshoots_the_target_month(day: date, n: int) -> None:
    result = add_months(day, n)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == n
    assert result.day <= day.day


def test_monthly_series_from_the_31st_keeps_month_ends() -> None:
    """Jan 31 + 1 month is Feb 28, and + 2 months is Mar 31 again, not Mar 28."""
    protocol = _protocol(_rule(offsets=(1, 2, 3)))
    items = schedule(protocol, PlanEvents(date(2026, 1, 31)), horizon=FAR)
    assert [i.due_on for i in items] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_weekly_units_use_exact_weeks() -> None:
    protocol = _protocol(
        _rule(
            unit=PeriodUnit.WEEKS,
            every=2,
            start=2,
            until=Until(Anchor.FIRST_DOSE, 6, PeriodUnit.WEEKS),
        )
    )
    items = schedule(protocol, PlanEvents(date(2026, 1, 1)), horizon=FAR)
    assert [i.due_on for i in items] == [date(2026, 1, 15), date(2026, 1, 29), date(2026, 2, 12)]


# --- horizon -------------------------------------------------------------------------------------


def test_open_ended_repeat_stops_at_the_horizon() -> None:
    protocol = _protocol(_rule(every=6))
    items = schedule(protocol, PlanEvents(START), horizon=months(18))
    assert [i.occurrence for i in items] == [6, 12, 18]  # the horizon is inclusive


def test_finite_series_is_returned_beyond_the_horizon() -> None:
    """Explicit offsets are a finite checklist: the caller sees all of it from day one."""
    items = run("teriflunomide", "US", horizon=START)
    assert due(items, "alt_monthly_6m") == [months(n) for n in range(1, 7)]


def test_extending_the_horizon_only_adds_items() -> None:
    events = PlanEvents(START)
    short = run("fingolimod", "EU", events, horizon=months(12))
    long = run("fingolimod", "EU", events, horizon=months(36))
    assert {i.key for i in short} < {i.key for i in long}
    assert all(i.due_on > months(12) for i in long if i.key not in {s.key for s in short})


def test_no_items_before_the_plan_starts() -> None:
    assert run("alemtuzumab", "US", PlanEvents(None)) == []


# --- stop ----------------------------------------------------------------------------------------


def test_stop_drops_items_due_after_it_unless_the_rule_survives() -> None:
    protocol = _protocol(
        _rule("ends", every=1),
        _rule("survives", every=1, survives_stop=True, until=Until(Anchor.FIRST_DOSE, 12)),
    )
    stopped = months(3) + (months(4) - months(3)) // 2
    items = schedule(protocol, PlanEvents(START, stopped_on=stopped), horizon=FAR)
    assert due(items, "ends") == [months(n) for n in (1, 2, 3)]
    assert due(items, "survives") == [months(n) for n in range(1, 13)]
    assert all(i.survives_stop for i in items if i.rule_key == "survives")


def test_stop_anchored_rules_appear_only_once_a_stop_exists() -> None:
    protocol = _protocol(_rule("after_stop", anchor=Anchor.STOP, offsets=(2,)))
    assert schedule(protocol, PlanEvents(START), horizon=FAR) == []
    stopped = date(2026, 8, 31)
    [item] = schedule(protocol, PlanEvents(START, stopped_on=stopped), horizon=FAR)
    assert (item.due_on, item.anchor, item.anchor_on, item.survives_stop) == (
        date(2026, 10, 31),
        "stop",
        stopped,
        True,
    )


def test_until_relative_to_stop_is_open_until_the_stop_happens() -> None:
    protocol = _protocol(
        _rule(every=1, survives_stop=True, until=Until(Anchor.STOP, 2)),
    )
    assert len(schedule(protocol, PlanEvents(START), horizon=months(10))) == 10
    items = schedule(protocol, PlanEvents(START, stopped_on=months(4)), horizon=FAR)
    assert [i.occurrence for i in items] == [1, 2, 3, 4, 5, 6]


# --- anchors -------------------------------------------------------------------------------------


def test_each_course_starts_an_independent_series() -> None:
    protocol = _protocol(_rule(anchor=Anchor.EACH_COURSE, offsets=(2, 6)))
    course_2 = date(2027, 1, 11)
    items = schedule(protocol, PlanEvents(START, courses=(START, course_2)), horizon=FAR)
    assert [(i.anchor_on, i.occurrence) for i in items] == [
        (START, 2),
        (START, 6),
        (course_2, 2),
        (course_2, 6),
    ]


def test_first_dose_counts_as_course_one_when_no_course_is_recorded() -> None:
    protocol = _protocol(_rule(anchor=Anchor.EACH_COURSE, offsets=(2,)))
    [item] = schedule(protocol, PlanEvents(START), horizon=FAR)
    assert item.anchor_on == START


def test_each_dose_includes_the_first_dose() -> None:
    protocol = _protocol(_rule(anchor=Anchor.EACH_DOSE, unit=PeriodUnit.DAYS, offsets=(1,)))
    items = schedule(protocol, PlanEvents(START, doses=(date(2026, 2, 2),)), horizon=FAR)
    assert [i.due_on for i in items] == [date(2026, 1, 6), date(2026, 2, 3)]


def test_last_dose_series_is_superseded_by_the_next_dose() -> None:
    protocol = _protocol(_rule(anchor=Anchor.LAST_DOSE, offsets=(3,)))
    early = date(2026, 3, 1)  # the next dose came before the check fell due
    items = schedule(protocol, PlanEvents(START, doses=(early,)), horizon=FAR)
    assert [(i.anchor_on, i.due_on) for i in items] == [(early, date(2026, 6, 1))]


def test_anchor_merge_days_folds_a_split_dose_into_one_administration() -> None:
    protocol = _protocol(_rule(anchor=Anchor.LAST_DOSE, offsets=(6,), merge_days=21))
    day_15 = date(2026, 1, 19)
    [item] = schedule(protocol, PlanEvents(START, doses=(day_15,)), horizon=FAR)
    assert item.anchor_on == START


def test_anchor_limit_uses_only_the_first_events() -> None:
    protocol = _protocol(_rule(anchor=Anchor.EACH_COURSE, offsets=(12,), anchor_limit=1))
    items = schedule(protocol, PlanEvents(START, courses=(START, months(12))), horizon=FAR)
    assert [i.anchor_on for i in items] == [START]


def test_conditional_rules_need_one_of_their_conditions() -> None:
    protocol = get_protocol("fingolimod", "US", on=START)
    without = schedule(protocol, PlanEvents(START), horizon=months(36))
    with_ = schedule(
        protocol, PlanEvents(START), horizon=months(36), conditions={"diabetes_or_uveitis"}
    )
    assert due(without, "eye_exam_diabetes_uveitis") == []
    assert due(with_, "eye_exam_diabetes_uveitis") == [months(12), months(24), months(36)]


# --- identity ------------------------------------------------------------------------------------


def test_occurrence_is_the_offset_in_the_rule_unit() -> None:
    items = run("teriflunomide", "EU", horizon=months(12))
    assert [i.occurrence for i in items if i.rule_key == "alt_2_weekly_6m"] == list(range(2, 27, 2))


def test_item_keys_are_unique() -> None:
    events = PlanEvents(
        START, doses=(months(6), months(12)), courses=(START, months(12)), stopped_on=months(20)
    )
    for protocol in all_protocols():
        items = schedule(protocol, events, horizon=months(60), conditions=_ALL_CONDITIONS)
        keys = [i.key for i in items]
        assert len(keys) == len(set(keys)), protocol.label


_ALL_CONDITIONS = {
    "diabetes_or_uveitis",
    "thyroid_history",
    "cardiac_risk",
    "jcv_positive",
    "female",
}


def _history(protocol: Protocol) -> list[PlanEvents]:
    """Successive snapshots of one plan, each adding events after the previous ones."""
    doses = (months(6), months(12), months(18))
    courses = (START, months(12))
    snapshots = [PlanEvents(START)]
    if protocol.has_courses:
        snapshots.append(PlanEvents(START, courses=courses))
    if protocol.has_doses:
        snapshots += [PlanEvents(START, doses=doses[:1]), PlanEvents(START, doses=doses)]
    last = snapshots[-1]
    snapshots.append(replace(last, stopped_on=months(20)))
    return snapshots


def _new_event_on(before: PlanEvents, after: PlanEvents) -> date:
    new = {*after.doses, *after.courses} - {*before.doses, *before.courses}
    if after.stopped_on and not before.stopped_on:
        new.add(after.stopped_on)
    return min(new)


@pytest.mark.parametrize("protocol", all_protocols(), ids=lambda p: p.label)
def test_rerun_with_more_events_keeps_every_key_due_before_them(protocol: Protocol) -> None:
    """The caller upserts on (rule_key, anchor_on, occurrence): earlier items must keep that key.

    An item can only disappear if it falls after a new event that supersedes it (a stop, or the
    next dose for "before the next dose" duties); everything due up to the new event stays,
    unchanged.
    """
    snapshots = _history(protocol)
    for horizon in (months(9), months(30)):
        for before, after in itertools.pairwise(snapshots):
            old = schedule(protocol, before, horizon=horizon, conditions=_ALL_CONDITIONS)
            new = schedule(protocol, after, horizon=horizon, conditions=_ALL_CONDITIONS)
            cutoff = _new_event_on(before, after)
            kept = {(i.key, i.due_on) for i in old if i.due_on <= cutoff}
            assert kept <= {(i.key, i.due_on) for i in new}, (protocol.label, horizon, after)


@pytest.mark.parametrize("protocol", all_protocols(), ids=lambda p: p.label)
def test_new_doses_and_courses_only_add_items_outside_last_dose_rules(protocol: Protocol) -> None:
    """Only "before the next dose" series can be superseded; other anchors never lose items."""
    before = PlanEvents(START)
    after = PlanEvents(START, doses=(months(6), months(12)), courses=(START, months(12)))
    for horizon in (months(9), months(40)):
        old = schedule(protocol, before, horizon=horizon, conditions=_ALL_CONDITIONS)
        new = schedule(protocol, after, horizon=horizon, conditions=_ALL_CONDITIONS)
        lasting = {(i.key, i.due_on) for i in old if i.anchor != "last_dose"}
        assert lasting <= {(i.key, i.due_on) for i in new}, protocol.label


def test_explanation_names_rule_source_version_and_anchor() -> None:
    item = run("teriflunomide", "US", horizon=months(6))[2]
    assert item.explanation == (
        "Monthly ALT for the first 6 months of teriflunomide (US-PI §5; protocol teriflunomide "
        "US v2026.2), month 3 after the first dose on 2026-01-05."
    )


# --- review interval -----------------------------------------------------------------------------


@pytest.mark.parametrize("interval", [3, 4, 5, 6])
def test_general_review_interval_is_a_parameter(interval: int) -> None:
    items = run("general", "EU", horizon=months(12), review_interval_months=interval)
    assert due(items, "neuro_review") == [months(n) for n in range(interval, 13, interval)]


@pytest.mark.parametrize("interval", [0, 2, 7, 12])
def test_review_interval_outside_3_to_6_months_is_rejected(interval: int) -> None:
    with pytest.raises(ValueError, match="between 3 and 6"):
        run("general", "EU", review_interval_months=interval)


# --- baseline ------------------------------------------------------------------------------------


def test_baseline_checklist_lists_label_required_items_first_with_gates() -> None:
    checklist = baseline_checklist(get_protocol("siponimod", "US", on=START))
    required = [c.required_by_label for c in checklist]
    assert required == sorted(required, reverse=True)
    cyp2c9 = next(c for c in checklist if c.investigation == "cyp2c9")
    assert cyp2c9.name == "CYP2C9 genotype"
    assert "*3/*3" in cyp2c9.gate


def test_within_days_is_carried_into_the_checklist() -> None:
    checklist = baseline_checklist(get_protocol("teriflunomide", "US", on=START))
    lft = next(c for c in checklist if c.investigation == "lft")
    assert lft.within_days == 183
