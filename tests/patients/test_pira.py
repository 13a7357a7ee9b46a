"""PIRA or RAW: each confirmed progression is labelled by the relapse window around its onset
and a baseline re-set after each relapse (patients.progression.label_progressions)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from patients.progression import (
    EdssPoint,
    ProgressionKind,
    RelapsePeriod,
    label_progressions,
)

START = date(2020, 1, 1)
ONSET = date(2021, 1, 1)  # the visit where EDSS first reaches the worsened level
CONFIRMED = ONSET + timedelta(days=120)


def edss(on: date, step: str) -> EdssPoint:
    return EdssPoint(on, Decimal(step))


def a_worsening_from_2_to_3() -> list[EdssPoint]:
    return [edss(START, "2.0"), edss(ONSET, "3.0"), edss(CONFIRMED, "3.0")]


def test_a_worsening_without_any_relapse_is_pira():
    [event] = label_progressions(a_worsening_from_2_to_3())
    assert event.kind == ProgressionKind.PIRA
    assert event.reference == edss(START, "2.0")
    assert "90 days before" in event.rule
    assert "30 days after" in event.rule


@pytest.mark.parametrize(
    ("days_from_onset", "kind"),
    [
        (-91, ProgressionKind.PIRA),  # outside the window: judged from the re-set baseline
        (-90, ProgressionKind.RAW),  # first day of the window
        (-60, ProgressionKind.RAW),
        (30, ProgressionKind.RAW),  # last day of the window
        (31, ProgressionKind.PIRA),
    ],
)
def test_the_relapse_window_runs_from_90_days_before_to_30_days_after_the_onset(
    days_from_onset, kind
):
    # A re-baseline visit 45 days before the onset keeps the 2.0 level, so only the window
    # decides. (An EDSS within 30 days after a relapse is never used, so a relapse in the last
    # month before the onset would hide the worsening itself: -60 stands for "shortly before".)
    relapse_on = ONSET + timedelta(days=days_from_onset)
    assessments = [*a_worsening_from_2_to_3(), edss(ONSET - timedelta(days=45), "2.0")]
    [event] = label_progressions(assessments, [RelapsePeriod(relapse_on, relapse_on)])
    assert event.kind == kind


def test_a_step_up_left_by_a_relapse_is_raw_when_measured_from_the_re_set_baseline():
    relapse = RelapsePeriod(date(2020, 6, 1), date(2020, 6, 20))
    assessments = [
        edss(START, "2.0"),
        edss(date(2020, 8, 1), "2.5"),  # after the relapse: recovered only partly
        edss(ONSET, "3.0"),  # +1.0 from the first baseline, but only +0.5 from the re-set one
        edss(CONFIRMED, "3.0"),
    ]
    [event] = label_progressions(assessments, [relapse])
    assert event.kind == ProgressionKind.RAW
    assert event.reference == edss(date(2020, 8, 1), "2.5")
    assert "left by the relapse" in event.reason


def test_a_worsening_beyond_the_re_set_baseline_is_pira_even_after_an_earlier_relapse():
    relapse = RelapsePeriod(date(2020, 3, 1), date(2020, 3, 15))
    assessments = [
        edss(START, "2.0"),
        edss(date(2020, 6, 1), "2.0"),  # full recovery: the re-set baseline is 2.0 again
        edss(ONSET, "3.0"),
        edss(CONFIRMED, "3.0"),
    ]
    [event] = label_progressions(assessments, [relapse])
    assert event.kind == ProgressionKind.PIRA
    assert event.reference == edss(date(2020, 6, 1), "2.0")


def test_without_a_usable_visit_between_relapse_and_worsening_the_event_is_raw():
    # The relapse is outside the window, but no EDSS after its exclusion window comes before
    # the onset: the rise cannot be separated from the relapse.
    relapse = RelapsePeriod(date(2020, 9, 1), date(2020, 9, 20))
    [event] = label_progressions(a_worsening_from_2_to_3(), [relapse])
    assert event.kind == ProgressionKind.RAW
    assert "cannot be told apart" in event.reason


def test_the_window_is_a_choice_the_clinic_can_change_and_the_label_shows_it():
    relapse_on = ONSET - timedelta(days=100)
    assessments = [*a_worsening_from_2_to_3(), edss(ONSET - timedelta(days=45), "2.0")]
    relapses = [RelapsePeriod(relapse_on, relapse_on)]
    [default] = label_progressions(assessments, relapses)
    [wider] = label_progressions(assessments, relapses, window_before_days=180)
    assert default.kind == ProgressionKind.PIRA
    assert wider.kind == ProgressionKind.RAW
    assert "180 days before" in wider.rule


def test_each_of_two_events_gets_its_own_label():
    relapse = RelapsePeriod(date(2022, 5, 1), date(2022, 5, 10))
    assessments = [
        *a_worsening_from_2_to_3(),
        edss(date(2022, 5, 20), "4.0"),  # onset of a second worsening, 19 days after a relapse
        edss(date(2022, 10, 1), "4.0"),
    ]
    # The visit inside the relapse window is not usable; the next one is the onset.
    assessments[3] = edss(date(2022, 6, 30), "4.0")
    labels = [event.kind for event in label_progressions(assessments, [relapse])]
    assert labels == [ProgressionKind.PIRA, ProgressionKind.RAW]


def test_no_confirmed_progression_means_no_label():
    assert label_progressions([edss(START, "2.0"), edss(ONSET, "2.5")]) == []
