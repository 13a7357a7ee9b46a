"""Confirmed disability progression, the caseload trend and NEDA-3 (dmt-monitoring.md §9)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from patients.progression import (
    CONFIRMATION_24_WEEKS,
    EdssPoint,
    MriPoint,
    NedaComponent,
    RelapsePeriod,
    edss_trend,
    find_confirmed_progression,
    find_confirmed_progressions,
    neda3_for_year,
    required_increase,
)

START = date(2024, 1, 15)


def day(offset: int) -> date:
    return START + timedelta(days=offset)


def visits(*scores: tuple[int, str]) -> list[EdssPoint]:
    """EDSS visits as (days after START, step)."""
    return [EdssPoint(day(offset), Decimal(step)) for offset, step in scores]


# §9.2 table: the increase needed depends on the baseline.
@pytest.mark.parametrize(
    ("baseline", "needed"),
    [
        pytest.param("0", "1.5", id="baseline-0-needs-1.5"),
        pytest.param("1.0", "1.0", id="baseline-1.0-needs-1.0"),
        pytest.param("5.5", "1.0", id="baseline-5.5-needs-1.0"),
        pytest.param("6.0", "0.5", id="baseline-6.0-needs-0.5"),
        pytest.param("9.5", "0.5", id="baseline-9.5-needs-0.5"),
    ],
)
def test_required_increase_follows_the_baseline_band(baseline: str, needed: str) -> None:
    assert required_increase(Decimal(baseline)) == Decimal(needed)


def test_trials_with_a_5_0_cut_off_need_0_5_from_5_5() -> None:
    assert required_increase(Decimal("5.5"), half_point_from=Decimal("5.5")) == Decimal("0.5")
    assert required_increase(Decimal("5.0"), half_point_from=Decimal("5.5")) == Decimal("1.0")


@pytest.mark.parametrize(
    ("baseline", "worse", "counts"),
    [
        pytest.param("0", "1.0", False, id="0-to-1.0-too-small"),
        pytest.param("0", "1.5", True, id="0-to-1.5-counts"),
        pytest.param("1.0", "1.5", False, id="1.0-to-1.5-too-small"),
        pytest.param("1.0", "2.0", True, id="1.0-to-2.0-counts"),
        pytest.param("5.5", "6.0", False, id="5.5-to-6.0-too-small"),
        pytest.param("5.5", "6.5", True, id="5.5-to-6.5-counts"),
        pytest.param("6.0", "6.5", True, id="6.0-to-6.5-counts"),
    ],
)
def test_confirmed_progression_threshold_at_each_baseline_band(
    baseline: str, worse: str, counts: bool
) -> None:
    assessments = visits((0, baseline), (180, worse), (270, worse))

    finding = find_confirmed_progression(assessments, [])

    assert (finding is not None) == counts


def test_finding_names_baseline_worsening_and_confirmation() -> None:
    assessments = visits((0, "2.0"), (180, "3.0"), (270, "3.5"))

    finding = find_confirmed_progression(assessments, [])

    assert finding is not None
    assert finding.baseline == EdssPoint(day(0), Decimal("2.0"))
    assert finding.worsened_on == day(180)
    assert finding.confirmed_on == day(270)
    assert finding.required_increase == Decimal("1.0")
    assert finding.confirmation_days == 84
    assert "from 2.0" in finding.explanation
    assert day(270).isoformat() in finding.explanation


def test_confirmation_one_day_too_early_does_not_confirm() -> None:
    assessments = visits((0, "2.0"), (180, "3.0"), (180 + 83, "3.0"))

    assert find_confirmed_progression(assessments, []) is None


def test_confirmation_at_exactly_12_weeks_confirms() -> None:
    assessments = visits((0, "2.0"), (180, "3.0"), (180 + 84, "3.0"))

    assert find_confirmed_progression(assessments, []) is not None


def test_24_week_confirmation_needs_168_days() -> None:
    too_early = visits((0, "2.0"), (180, "3.0"), (180 + 167, "3.0"))
    in_time = visits((0, "2.0"), (180, "3.0"), (180 + 168, "3.0"))

    assert (
        find_confirmed_progression(too_early, [], confirmation_days=CONFIRMATION_24_WEEKS) is None
    )
    assert (
        find_confirmed_progression(in_time, [], confirmation_days=CONFIRMATION_24_WEEKS) is not None
    )


def test_early_visit_that_stays_worse_is_followed_to_a_later_confirmation() -> None:
    assessments = visits((0, "2.0"), (180, "3.0"), (200, "3.0"), (300, "3.0"))

    finding = find_confirmed_progression(assessments, [])

    assert finding is not None
    assert finding.confirmed_on == day(300)


def test_confirmation_below_the_required_level_does_not_confirm() -> None:
    assessments = visits((0, "2.0"), (180, "3.0"), (300, "2.5"))

    assert find_confirmed_progression(assessments, []) is None


def test_a_dip_between_worsening_and_confirmation_breaks_it() -> None:
    # The increase must persist (§9.2): a visit back below 3.0 in between means it did not.
    assessments = visits((0, "2.0"), (180, "3.0"), (220, "2.0"), (300, "3.0"))

    assert find_confirmed_progression(assessments, []) is None


def test_worsening_inside_the_relapse_window_does_not_count() -> None:
    relapse = RelapsePeriod(onset_on=day(170), end_on=day(190))
    # Day 180 is during the relapse; day 280 is the first clean high score, unconfirmed.
    assessments = visits((0, "2.0"), (180, "4.0"), (280, "3.0"))

    assert find_confirmed_progression(assessments, [relapse]) is None


def test_worsening_30_days_after_relapse_end_is_still_excluded() -> None:
    relapse = RelapsePeriod(onset_on=day(100), end_on=day(150))
    assessments = visits((0, "2.0"), (180, "3.0"), (270, "3.0"))

    assert find_confirmed_progression(assessments, [relapse]) is None


def test_worsening_31_days_after_relapse_end_counts() -> None:
    relapse = RelapsePeriod(onset_on=day(100), end_on=day(149))
    assessments = visits((0, "2.0"), (180, "3.0"), (270, "3.0"))

    finding = find_confirmed_progression(assessments, [relapse])

    assert finding is not None
    assert finding.worsened_on == day(180)


def test_relapse_without_end_date_excludes_30_days_from_onset() -> None:
    relapse = RelapsePeriod(onset_on=day(160))
    excluded = visits((0, "2.0"), (190, "3.0"), (280, "3.0"))
    counted = visits((0, "2.0"), (191, "3.0"), (280, "3.0"))

    assert find_confirmed_progression(excluded, [relapse]) is None
    assert find_confirmed_progression(counted, [relapse]) is not None


def test_confirmation_visit_inside_the_relapse_window_is_skipped() -> None:
    relapse = RelapsePeriod(onset_on=day(260), end_on=day(265))
    # The day-270 visit is in the window, so confirmation waits for day 400.
    assessments = visits((0, "2.0"), (180, "3.0"), (270, "3.0"), (400, "3.0"))

    finding = find_confirmed_progression(assessments, [relapse])

    assert finding is not None
    assert finding.confirmed_on == day(400)


def test_baseline_inside_the_relapse_window_is_not_used() -> None:
    relapse = RelapsePeriod(onset_on=day(-10), end_on=day(5))
    # From 4.0 (taken during the relapse) 3.0 would be no worsening; from 2.0 it is.
    assessments = visits((0, "4.0"), (60, "2.0"), (240, "3.0"), (330, "3.0"))

    finding = find_confirmed_progression(assessments, [relapse])

    assert finding is not None
    assert finding.baseline.on == day(60)


def test_assessments_are_taken_in_date_order_whatever_the_input_order() -> None:
    assessments = visits((270, "3.0"), (0, "2.0"), (180, "3.0"))

    finding = find_confirmed_progression(assessments, [])

    assert finding is not None
    assert finding.baseline.on == day(0)


def test_a_second_event_is_measured_from_the_first_confirmed_score() -> None:
    assessments = visits(
        (0, "2.0"), (180, "3.0"), (270, "3.0"), (450, "3.5"), (600, "4.0"), (700, "4.0")
    )

    first, second = find_confirmed_progressions(assessments, [])

    assert first.confirmed_on == day(270)
    assert second.baseline.on == day(270)
    assert second.worsened_on == day(600)


def test_no_assessments_means_no_progression() -> None:
    assert find_confirmed_progressions([], []) == []


@pytest.mark.parametrize("step", ["0.5", "10.5", "2.3", "-1"])
def test_edss_point_rejects_a_step_the_scale_does_not_have(step: str) -> None:
    with pytest.raises(ValueError, match="EDSS step"):
        EdssPoint(START, Decimal(step))


def test_relapse_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="cannot be before its onset"):
        RelapsePeriod(onset_on=day(10), end_on=day(9))


# The caseload arrow.
@pytest.mark.parametrize(
    ("steps", "trend"),
    [
        pytest.param(("2.0", "3.0"), "up", id="2.0-to-3.0-up"),
        pytest.param(("2.0", "2.5"), "stable", id="2.0-to-2.5-stable"),
        pytest.param(("0", "1.0"), "stable", id="0-to-1.0-stable"),
        pytest.param(("0", "1.5"), "up", id="0-to-1.5-up"),
        pytest.param(("6.0", "6.5"), "up", id="6.0-to-6.5-up"),
        pytest.param(("3.0", "2.0"), "down", id="3.0-to-2.0-down"),
        pytest.param(("1.5", "0"), "down", id="1.5-to-0-down"),
        pytest.param(("6.0", "5.5"), "stable", id="6.0-to-5.5-stable"),
        pytest.param(("6.5", "6.0"), "down", id="6.5-to-6.0-down"),
    ],
)
def test_trend_uses_the_progression_thresholds(steps: tuple[str, str], trend: str) -> None:
    points = visits((0, steps[0]), (180, steps[1]))

    assert edss_trend(points) == trend


def test_trend_compares_the_latest_two_assessments() -> None:
    points = visits((360, "3.0"), (0, "1.0"), (180, "3.0"))

    assert edss_trend(points) == "stable"


@pytest.mark.parametrize("count", [0, 1])
def test_trend_needs_two_assessments(count: int) -> None:
    assert edss_trend(visits((0, "2.0"))[:count]) is None


# NEDA-3 per calendar year (§9.3).
YEAR = 2025


def quiet_scan(on: date, *, is_baseline: bool = False) -> MriPoint:
    return MriPoint(on, new_or_enlarging_t2=0, gad_enhancing=0, is_baseline=is_baseline)


STABLE_EDSS = [
    EdssPoint(date(2024, 6, 1), Decimal("2.0")),
    EdssPoint(date(2025, 6, 1), Decimal("2.0")),
]
QUIET_MRI = [quiet_scan(date(2025, 5, 1))]


def test_neda_is_achieved_with_no_relapse_no_mri_activity_and_stable_edss() -> None:
    status = neda3_for_year(YEAR, [], QUIET_MRI, STABLE_EDSS)

    assert status.achieved is True
    assert status.failed == ()
    assert status.summary == "NEDA-3 achieved in 2025."


def test_neda_is_lost_by_a_relapse() -> None:
    relapse = RelapsePeriod(onset_on=date(2025, 2, 10), end_on=date(2025, 3, 1))

    status = neda3_for_year(YEAR, [relapse], QUIET_MRI, STABLE_EDSS)

    assert status.achieved is False
    assert status.failed == (NedaComponent.RELAPSE,)
    assert "2025-02-10" in status.explanations[0]


def test_relapse_with_onset_in_the_year_before_does_not_count() -> None:
    relapse = RelapsePeriod(onset_on=date(2024, 12, 20), end_on=date(2025, 1, 20))

    assert neda3_for_year(YEAR, [relapse], QUIET_MRI, STABLE_EDSS).achieved is True


def test_neda_is_lost_by_a_new_t2_lesion() -> None:
    scan = MriPoint(date(2025, 5, 1), new_or_enlarging_t2=1, gad_enhancing=0, is_baseline=False)

    status = neda3_for_year(YEAR, [], [scan], STABLE_EDSS)

    assert status.achieved is False
    assert status.failed == (NedaComponent.MRI_ACTIVITY,)


def test_neda_is_lost_by_a_gadolinium_enhancing_lesion() -> None:
    scan = MriPoint(date(2025, 5, 1), new_or_enlarging_t2=0, gad_enhancing=2, is_baseline=False)

    assert neda3_for_year(YEAR, [], [scan], STABLE_EDSS).failed == (NedaComponent.MRI_ACTIVITY,)


def test_lesions_on_the_rebaseline_scan_do_not_count() -> None:
    # They are read against the pre-treatment scan, before the DMT had time to work (§9.3).
    rebaseline = MriPoint(
        date(2025, 3, 1), new_or_enlarging_t2=4, gad_enhancing=1, is_baseline=True
    )
    follow_up = quiet_scan(date(2025, 11, 1))

    status = neda3_for_year(YEAR, [], [rebaseline, follow_up], STABLE_EDSS)

    assert status.achieved is True
    assert "re-baseline" in status.explanations[1]


def test_a_year_with_only_a_rebaseline_scan_is_not_evaluable() -> None:
    rebaseline = quiet_scan(date(2025, 3, 1), is_baseline=True)

    status = neda3_for_year(YEAR, [], [rebaseline], STABLE_EDSS)

    assert status.achieved is None
    assert status.not_evaluable == (NedaComponent.MRI_ACTIVITY,)
    assert "re-baseline" in status.explanations[1]


def test_neda_is_lost_by_confirmed_progression_starting_in_the_year() -> None:
    assessments = [
        EdssPoint(date(2024, 6, 1), Decimal("2.0")),
        EdssPoint(date(2025, 3, 1), Decimal("3.0")),
        EdssPoint(date(2025, 9, 1), Decimal("3.0")),
    ]

    status = neda3_for_year(YEAR, [], QUIET_MRI, assessments)

    assert status.achieved is False
    assert status.failed == (NedaComponent.PROGRESSION,)


def test_progression_confirmed_the_next_year_still_counts_for_the_year_it_started() -> None:
    assessments = [
        EdssPoint(date(2025, 1, 10), Decimal("2.0")),
        EdssPoint(date(2025, 11, 1), Decimal("3.0")),
        EdssPoint(date(2026, 3, 1), Decimal("3.0")),
    ]

    assert neda3_for_year(YEAR, [], QUIET_MRI, assessments).failed == (NedaComponent.PROGRESSION,)


def test_progression_that_started_the_year_before_does_not_count() -> None:
    assessments = [
        EdssPoint(date(2024, 1, 10), Decimal("2.0")),
        EdssPoint(date(2024, 6, 1), Decimal("3.0")),
        EdssPoint(date(2025, 6, 1), Decimal("3.0")),
    ]

    assert neda3_for_year(YEAR, [], QUIET_MRI, assessments).achieved is True


def test_every_failed_component_is_listed() -> None:
    relapse = RelapsePeriod(onset_on=date(2025, 2, 10))
    scan = MriPoint(date(2025, 5, 1), new_or_enlarging_t2=2, gad_enhancing=0, is_baseline=False)

    status = neda3_for_year(YEAR, [relapse], [scan], STABLE_EDSS)

    assert status.failed == (NedaComponent.RELAPSE, NedaComponent.MRI_ACTIVITY)
    assert status.summary == "NEDA-3 not achieved in 2025: relapse, MRI activity."


def test_neda_is_not_evaluable_without_mri_that_year() -> None:
    status = neda3_for_year(YEAR, [], [quiet_scan(date(2024, 5, 1))], STABLE_EDSS)

    assert status.achieved is None
    assert status.not_evaluable == (NedaComponent.MRI_ACTIVITY,)
    assert status.explanations[1] == "No MRI in 2025, so MRI activity cannot be judged."


def test_neda_is_not_evaluable_without_edss_that_year() -> None:
    status = neda3_for_year(YEAR, [], QUIET_MRI, STABLE_EDSS[:1])

    assert status.achieved is None
    assert status.not_evaluable == (NedaComponent.PROGRESSION,)
    assert "No EDSS in 2025" in status.explanations[2]


def test_edss_only_inside_a_relapse_window_leaves_progression_not_evaluable() -> None:
    relapse = RelapsePeriod(onset_on=date(2024, 12, 20), end_on=date(2025, 1, 5))
    assessments = [*STABLE_EDSS[:1], EdssPoint(date(2025, 1, 20), Decimal("2.0"))]

    status = neda3_for_year(YEAR, [relapse], QUIET_MRI, assessments)

    assert status.not_evaluable == (NedaComponent.PROGRESSION,)
    assert "relapse window" in status.explanations[2]


def test_worsening_awaiting_confirmation_is_not_evaluable_yet() -> None:
    assessments = [*STABLE_EDSS, EdssPoint(date(2025, 11, 20), Decimal("3.0"))]

    status = neda3_for_year(YEAR, [], QUIET_MRI, assessments)

    assert status.achieved is None
    assert status.not_evaluable == (NedaComponent.PROGRESSION,)
    assert "awaits a confirmation visit" in status.explanations[2]


def test_evidence_of_activity_outweighs_missing_data() -> None:
    relapse = RelapsePeriod(onset_on=date(2025, 2, 10))

    status = neda3_for_year(YEAR, [relapse], [], [])

    assert status.achieved is False
    assert status.failed == (NedaComponent.RELAPSE,)
    assert status.not_evaluable == (NedaComponent.MRI_ACTIVITY, NedaComponent.PROGRESSION)


def test_mri_counts_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="gad_enhancing"):
        MriPoint(date(2025, 5, 1), new_or_enlarging_t2=0, gad_enhancing=-1)
