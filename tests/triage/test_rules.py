"""The relapse definition as a pure function (no database): each criterion and its source."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from treatments.models import TriageOutcome
from treatments.protocols.relapse_triage import RELAPSE_TRIAGE
from treatments.triage.rules import CallFacts, Suggestion, assess, review_due_at

ONSET = date(2026, 6, 13)
# New symptoms for two days, a year after the last relapse, no fever, no trigger.
TYPICAL = CallFacts(onset_on=ONSET, duration_hours=48, last_relapse_onset_on=date(2025, 6, 1))
LONDON = ZoneInfo("Europe/London")


def test_new_symptoms_over_a_day_a_month_apart_without_fever_are_a_possible_relapse():
    result = assess(TYPICAL)

    assert result.suggestion == Suggestion.POSSIBLE_RELAPSE
    assert result.meets_definition
    # Every criterion is explained with its source.
    assert any("McDonald-2017" in reason for reason in result.reasons)


def test_the_constants_come_from_the_catalogue_entry_with_its_source():
    assert RELAPSE_TRIAGE.min_duration_hours == 24
    assert RELAPSE_TRIAGE.separation_days == 30
    assert "McDonald-2017" in RELAPSE_TRIAGE.duration_source
    assert "NICE-NG220" in RELAPSE_TRIAGE.pseudo_relapse_source


def test_symptoms_of_exactly_24_hours_meet_the_duration_and_23_do_not():
    assert assess(replace(TYPICAL, duration_hours=24)).meets_definition
    short = assess(replace(TYPICAL, duration_hours=23))

    assert not short.meets_definition
    assert short.suggestion == Suggestion.PSEUDO_RELAPSE


def test_a_custom_catalogue_entry_moves_the_threshold():
    stricter = replace(RELAPSE_TRIAGE, min_duration_hours=48)

    assert not assess(replace(TYPICAL, duration_hours=47), stricter).meets_definition


def test_an_onset_29_days_after_the_last_is_the_same_event_and_30_days_is_a_new_one():
    last = date(2026, 5, 15)
    same = assess(replace(TYPICAL, onset_on=date(2026, 6, 13), last_relapse_onset_on=last))
    new = assess(replace(TYPICAL, onset_on=date(2026, 6, 14), last_relapse_onset_on=last))

    assert same.same_event
    assert not same.meets_definition
    # Still reviewed urgently: a worsening of the same event.
    assert same.suggestion == Suggestion.POSSIBLE_RELAPSE
    assert not new.same_event
    assert new.meets_definition


def test_fever_infection_or_a_positive_dipstick_suggest_a_pseudo_relapse():
    for facts in (
        replace(TYPICAL, fever=True),
        replace(TYPICAL, infection_signs=True),
        replace(TYPICAL, dipstick_positive=True),
    ):
        result = assess(facts)
        assert result.suggestion == Suggestion.PSEUDO_RELAPSE
        assert result.febrile
        assert not result.meets_definition


def test_heat_or_stress_suggest_a_pseudo_relapse_though_the_mcdonald_definition_is_met():
    result = assess(replace(TYPICAL, heat_or_stress=True))

    assert result.suggestion == Suggestion.PSEUDO_RELAPSE
    assert result.meets_definition  # McDonald excludes fever and infection only


def test_a_red_flag_is_a_same_day_review_whatever_else_holds():
    result = assess(replace(TYPICAL, fever=True, duration_hours=3, red_flags=("cannot_walk",)))

    assert result.suggestion == Suggestion.RED_FLAGS
    assert any("New inability to walk" in reason for reason in result.reasons)


def test_no_earlier_relapse_is_nothing_to_be_separated_from():
    assert assess(replace(TYPICAL, last_relapse_onset_on=None)).meets_definition


def test_a_possible_relapse_is_due_within_the_target_and_red_flags_by_the_end_of_the_day():
    called = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)

    possible = review_due_at("possible_relapse", called_at=called, target_hours=48, zone=LONDON)
    red = review_due_at("red_flags", called_at=called, target_hours=48, zone=LONDON)

    assert possible == datetime(2026, 6, 17, 9, 30, tzinfo=UTC)
    assert red is not None
    assert red.astimezone(LONDON).date() == date(2026, 6, 15)
    assert (red.astimezone(LONDON).hour, red.astimezone(LONDON).minute) == (23, 59)
    assert review_due_at("pseudo_relapse", called_at=called, target_hours=48, zone=LONDON) is None


def test_a_late_evening_call_in_utc_is_due_by_the_end_of_the_clinics_day_not_utcs():
    # 23:30 UTC on 15 June is 00:30 on 16 June in London (summer time).
    called = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)

    red = review_due_at("red_flags", called_at=called, target_hours=48, zone=LONDON)

    assert red is not None
    assert red.astimezone(LONDON).date() == date(2026, 6, 16)


def test_the_outcome_choices_are_the_suggestions():
    assert set(TriageOutcome.values) == {s.value for s in Suggestion}
