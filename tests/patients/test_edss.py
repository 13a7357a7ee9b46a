"""The Neurostatus-EDSS calculator, row by row against the reference (dmt-monitoring.md §7)."""

from collections.abc import Mapping
from decimal import Decimal

import pytest

from patients.edss import (
    AMBULATION_LABELS,
    AMBULATION_RANGE,
    DEFAULT_OPTIONS,
    FS_NAMES,
    FS_ORDER,
    FS_RANGES,
    EdssInputError,
    EdssOptions,
    EdssResult,
    calculate_edss,
)

ALL_ZERO = dict.fromkeys(FS_ORDER, 0)


def edss(ambulation: int = 0, options: EdssOptions = DEFAULT_OPTIONS, **grades: int) -> EdssResult:
    """An exam with every FS at 0 unless named, walking unrestricted unless given."""
    return exam(grades, ambulation, options)


def exam(
    grades: Mapping[str, int | None],
    ambulation: int | None = 0,
    options: EdssOptions = DEFAULT_OPTIONS,
) -> EdssResult:
    """Like ``edss`` but with the FS grades in a mapping, as a form would pass them."""
    return calculate_edss(**{**ALL_ZERO, **grades}, ambulation=ambulation, options=options)


# Raw grades that convert to 0..4 (visual) and 0..5 (bowel/bladder) by §7.2.
RAW_VISUAL_FOR = {0: 0, 1: 1, 2: 2, 3: 4, 4: 6}
RAW_BOWEL_BLADDER_FOR = {0: 0, 1: 1, 2: 2, 3: 3, 4: 5, 5: 6}


def grades_for(*values: int) -> dict[str, int]:
    """Raw FS grades whose converted grades are ``values``, in the order the FS are filled."""
    order = (
        "pyramidal",
        "cerebellar",
        "brainstem",
        "sensory",
        "cerebral",
        "visual",
        "bowel_bladder",
    )
    grades = dict(zip(order, values, strict=False))
    if "visual" in grades:
        grades["visual"] = RAW_VISUAL_FOR[grades["visual"]]
    if "bowel_bladder" in grades:
        grades["bowel_bladder"] = RAW_BOWEL_BLADDER_FOR[grades["bowel_bladder"]]
    return grades


# §7.4: every clause of every row, one case each, with ambulation 0 so the FS alone decide.
FS_ROWS = [
    pytest.param((), "0.0", id="0.0-all-fs-0"),
    pytest.param((1,), "1.0", id="1.0-one-fs-1"),
    pytest.param((1, 1), "1.5", id="1.5-two-fs-1"),
    pytest.param((1, 1, 1, 1, 1, 1, 1), "1.5", id="1.5-seven-fs-1"),
    pytest.param((2,), "2.0", id="2.0-one-fs-2"),
    pytest.param((2, 1, 1, 1), "2.0", id="2.0-one-fs-2-others-1"),
    pytest.param((2, 2), "2.5", id="2.5-two-fs-2"),
    pytest.param((2, 2, 2), "3.0", id="3.0-three-fs-2"),
    pytest.param((2, 2, 2, 2), "3.0", id="3.0-four-fs-2"),
    pytest.param((3,), "3.0", id="3.0-one-fs-3"),
    pytest.param((3, 1, 1), "3.0", id="3.0-one-fs-3-others-1"),
    pytest.param((2, 2, 2, 2, 2), "3.5", id="3.5-five-fs-2"),
    pytest.param((3, 2), "3.5", id="3.5-one-fs-3-plus-one-fs-2"),
    pytest.param((3, 2, 2), "3.5", id="3.5-one-fs-3-plus-two-fs-2"),
    pytest.param((3, 3), "3.5", id="3.5-two-fs-3"),
    pytest.param((2, 2, 2, 2, 2, 2), "4.0", id="4.0-six-fs-2"),
    pytest.param((2, 2, 2, 2, 2, 2, 2), "4.0", id="4.0-seven-fs-2"),
    pytest.param((3, 2, 2, 2), "4.0", id="4.0-one-fs-3-plus-three-fs-2"),
    pytest.param((3, 2, 2, 2, 2, 2, 2), "4.0", id="4.0-one-fs-3-plus-six-fs-2"),
    pytest.param((3, 3, 2), "4.0", id="4.0-two-fs-3-plus-one-fs-2"),
    pytest.param((3, 3, 3), "4.0", id="4.0-three-fs-3"),
    pytest.param((3, 3, 3, 3), "4.0", id="4.0-four-fs-3"),
    pytest.param((3, 3, 3, 3, 2, 2), "4.0", id="4.0-four-fs-3-plus-fs-2"),
    pytest.param((4,), "4.0", id="4.0-one-fs-4"),
    pytest.param((0, 0, 0, 0, 0, 4), "4.0", id="4.0-one-fs-4-visual-6-converted"),
    pytest.param((4, 1, 1, 1), "4.0", id="4.0-one-fs-4-others-1"),
    pytest.param((3, 3, 3, 3, 3), "4.5", id="4.5-five-fs-3"),
    pytest.param((4, 3), "4.5", id="4.5-one-fs-4-plus-one-fs-3"),
    pytest.param((4, 3, 3), "4.5", id="4.5-one-fs-4-plus-two-fs-3"),
    pytest.param((4, 3, 2, 2), "4.5", id="4.5-one-fs-4-plus-fs-3-and-fs-2"),
    pytest.param((5,), "5.0", id="5.0-one-fs-5"),
    pytest.param((6,), "5.0", id="5.0-one-fs-6"),
    pytest.param((4, 4), "5.0", id="5.0-two-fs-4"),
    pytest.param((4, 3, 3, 3), "5.0", id="5.0-one-fs-4-plus-three-fs-3"),
    pytest.param((3, 3, 3, 3, 3, 3), "5.0", id="5.0-six-fs-3"),
    pytest.param((3, 3, 3, 3, 3, 3, 3), "5.0", id="5.0-seven-fs-3"),
    pytest.param((4, 4, 4, 4, 4, 4, 4), "5.0", id="5.0-seven-fs-4"),
]


@pytest.mark.parametrize(("values", "expected"), FS_ROWS)
def test_fs_grades_alone_give_the_step_of_their_row(values: tuple[int, ...], expected: str) -> None:
    result = exam(grades_for(*values))

    assert result.step == Decimal(expected)
    assert result.fs_step == Decimal(expected)
    assert result.ambulation_step is None


def test_fs_grades_alone_never_exceed_5_0() -> None:
    result = edss(
        pyramidal=6, cerebellar=5, brainstem=5, sensory=6, cerebral=5, visual=6, bowel_bladder=6
    )

    assert result.step == Decimal("5.0")


# §7.3: every ambulation score, with every FS at 0.
AMBULATION_ROWS = [
    pytest.param(0, "0.0", id="amb-0-unrestricted-fs-decide"),
    pytest.param(1, "2.0", id="amb-1-fully-ambulatory"),
    pytest.param(2, "4.5", id="amb-2-300-to-500m"),
    pytest.param(3, "5.0", id="amb-3-200-to-300m"),
    pytest.param(4, "5.5", id="amb-4-100-to-200m"),
    pytest.param(5, "6.0", id="amb-5-under-100m"),
    pytest.param(6, "6.0", id="amb-6-unilateral-50m-or-more"),
    pytest.param(7, "6.0", id="amb-7-bilateral-120m-or-more"),
    pytest.param(8, "6.5", id="amb-8-unilateral-under-50m"),
    pytest.param(9, "6.5", id="amb-9-bilateral-5-to-120m"),
    pytest.param(10, "7.0", id="amb-10-wheelchair-alone"),
    pytest.param(11, "7.5", id="amb-11-wheelchair-with-help"),
    pytest.param(12, "8.0", id="amb-12-bed-or-chair"),
    pytest.param(13, "8.5", id="amb-13-in-bed-much-of-day"),
    pytest.param(14, "9.0", id="amb-14-helpless-can-eat"),
    pytest.param(15, "9.5", id="amb-15-totally-helpless"),
    pytest.param(16, "10.0", id="amb-16-death-due-to-ms"),
]


@pytest.mark.parametrize(("ambulation", "expected"), AMBULATION_ROWS)
def test_ambulation_score_gives_the_step_of_its_row(ambulation: int, expected: str) -> None:
    assert edss(ambulation).step == Decimal(expected)


@pytest.mark.parametrize("ambulation", range(4, 17))
def test_ambulation_4_and_above_fixes_the_step_whatever_the_fs(ambulation: int) -> None:
    with_fs_at_5 = edss(ambulation, pyramidal=5, cerebellar=4)
    with_fs_at_0 = edss(ambulation)

    assert with_fs_at_5.step == with_fs_at_0.step
    assert "fixes the step" in with_fs_at_5.rule


def test_ambulation_2_lifts_lower_fs_combinations_to_4_5() -> None:
    result = edss(2, pyramidal=3)

    assert result.fs_step == Decimal("3.0")
    assert result.step == Decimal("4.5")
    assert "ambulation score 2" in result.rule


def test_ambulation_2_with_fs_at_4_5_stays_4_5() -> None:
    assert edss(2, pyramidal=3, cerebellar=3, brainstem=3, sensory=3, cerebral=3).step == Decimal(
        "4.5"
    )


def test_ambulation_2_with_fs_giving_5_0_gives_5_0() -> None:
    result = edss(2, pyramidal=5)

    assert result.step == Decimal("5.0")
    assert "from the FS grades" in result.rule


def test_ambulation_3_with_fs_giving_5_0_gives_5_0() -> None:
    assert edss(3, pyramidal=4, cerebellar=4).step == Decimal("5.0")


def test_ambulation_1_with_fs_above_2_0_leaves_the_fs_step() -> None:
    result = edss(1, pyramidal=3, cerebellar=2)

    assert result.step == Decimal("3.5")
    assert result.ambulation_step == Decimal("2.0")


# Boundaries between neighbouring rows: one grade more or less crosses the line.
BOUNDARIES = [
    pytest.param((1,), (1, 1), "1.0", "1.5", id="one-vs-two-fs-1"),
    pytest.param((1, 1, 1, 1, 1, 1, 1), (2,), "1.5", "2.0", id="seven-fs-1-vs-one-fs-2"),
    pytest.param((2, 2, 2, 2), (2, 2, 2, 2, 2), "3.0", "3.5", id="four-vs-five-fs-2"),
    pytest.param((2, 2, 2, 2, 2), (2, 2, 2, 2, 2, 2), "3.5", "4.0", id="five-vs-six-fs-2"),
    pytest.param((3, 2, 2), (3, 2, 2, 2), "3.5", "4.0", id="fs-3-plus-two-vs-three-fs-2"),
    pytest.param((3, 3), (3, 3, 2), "3.5", "4.0", id="two-fs-3-without-vs-with-fs-2"),
    pytest.param((3, 3, 3, 3), (3, 3, 3, 3, 3), "4.0", "4.5", id="four-vs-five-fs-3"),
    pytest.param((3, 3, 3, 3, 3), (3, 3, 3, 3, 3, 3), "4.5", "5.0", id="five-vs-six-fs-3"),
    pytest.param((4, 1), (4, 3), "4.0", "4.5", id="fs-4-with-fs-1-vs-fs-3"),
    pytest.param((4, 3, 3), (4, 3, 3, 3), "4.5", "5.0", id="fs-4-plus-two-vs-three-fs-3"),
    pytest.param((4, 3), (4, 4), "4.5", "5.0", id="one-vs-two-fs-4"),
    pytest.param((4,), (5,), "4.0", "5.0", id="fs-4-vs-fs-5"),
]


@pytest.mark.parametrize(("lower", "higher", "lower_step", "higher_step"), BOUNDARIES)
def test_one_grade_more_crosses_into_the_next_row(
    lower: tuple[int, ...], higher: tuple[int, ...], lower_step: str, higher_step: str
) -> None:
    assert exam(grades_for(*lower)).step == Decimal(lower_step)
    assert exam(grades_for(*higher)).step == Decimal(higher_step)


@pytest.mark.parametrize(
    ("ambulation", "expected"),
    [
        pytest.param(0, "3.0", id="amb-0-fs-decide"),
        pytest.param(1, "3.0", id="amb-1-fs-decide-above-2.0"),
        pytest.param(2, "4.5", id="amb-2-lifts-to-4.5"),
        pytest.param(3, "5.0", id="amb-3-lifts-to-5.0"),
        pytest.param(4, "5.5", id="amb-4-fixes-5.5"),
    ],
)
def test_the_higher_of_fs_step_and_walking_step_wins_up_to_ambulation_3(
    ambulation: int, expected: str
) -> None:
    assert edss(ambulation, pyramidal=3).step == Decimal(expected)


# §7.2 conversions.
@pytest.mark.parametrize(
    ("raw", "converted"),
    [pytest.param(raw, converted, id=f"visual-{raw}-to-{converted}") for raw, converted in
     [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4)]],
)  # fmt: skip
def test_visual_grade_is_converted_before_computing(raw: int, converted: int) -> None:
    assert edss(visual=raw).converted["visual"] == converted


@pytest.mark.parametrize(
    ("raw", "converted"),
    [pytest.param(raw, converted, id=f"bowel-bladder-{raw}-to-{converted}") for raw, converted in
     [(0, 0), (1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (6, 5)]],
)  # fmt: skip
def test_bowel_bladder_grade_is_converted_before_computing(raw: int, converted: int) -> None:
    assert edss(bowel_bladder=raw).converted["bowel_bladder"] == converted


def test_visual_6_counts_as_grade_4_not_6() -> None:
    # Unconverted, grade 6 would give 5.0; converted to 4 it is "one FS = 4, others <= 1".
    assert edss(visual=6).step == Decimal("4.0")


def test_visual_3_counts_as_grade_2() -> None:
    assert edss(visual=3).step == Decimal("2.0")


def test_bowel_bladder_4_counts_as_grade_3() -> None:
    assert edss(bowel_bladder=4).step == Decimal("3.0")


def test_bowel_bladder_5_counts_as_grade_4() -> None:
    assert edss(bowel_bladder=5).step == Decimal("4.0")


def test_bowel_bladder_6_counts_as_grade_5() -> None:
    assert edss(bowel_bladder=6).step == Decimal("5.0")


@pytest.mark.parametrize("name", ["pyramidal", "cerebellar", "brainstem", "sensory", "cerebral"])
def test_other_fs_are_not_converted(name: str) -> None:
    high = FS_RANGES[name][1]

    assert exam({name: high}).converted[name] == high


# §12 item 1: the disputed rules, both ways.
def test_one_fs_4_plus_fs_2_gives_4_5_by_default() -> None:
    result = edss(pyramidal=4, sensory=2)

    assert result.step == Decimal("4.5")
    assert "§12 item 1a" in result.rule


def test_one_fs_4_plus_fs_2_gives_4_0_when_chosen() -> None:
    options = EdssOptions(one_fs4_plus_fs2_gives_4_5=False)

    result = edss(options=options, pyramidal=4, sensory=2, brainstem=2)

    assert result.step == Decimal("4.0")
    assert "counted as 4.0" in result.rule


def test_the_fs_4_plus_fs_2_option_leaves_fs_4_plus_fs_3_at_4_5() -> None:
    # Only the combination without any grade 3 is disputed.
    options = EdssOptions(one_fs4_plus_fs2_gives_4_5=False)

    assert edss(options=options, pyramidal=4, sensory=3, brainstem=2).step == Decimal("4.5")


def test_cerebral_grade_1_counts_by_default() -> None:
    result = edss(cerebral=1)

    assert result.step == Decimal("1.0")
    assert result.converted["cerebral"] == 1


def test_cerebral_grade_1_is_ignored_when_chosen() -> None:
    result = edss(options=EdssOptions(count_cerebral_grade_1=False), cerebral=1)

    assert result.step == Decimal("0.0")
    assert result.converted["cerebral"] == 0
    assert "cerebral grade 1 not counted" in result.rule


def test_ignoring_cerebral_grade_1_turns_1_5_into_1_0() -> None:
    options = EdssOptions(count_cerebral_grade_1=False)

    assert edss(cerebral=1, sensory=1).step == Decimal("1.5")
    assert edss(options=options, cerebral=1, sensory=1).step == Decimal("1.0")


def test_ignoring_cerebral_grade_1_leaves_cerebral_grade_2_counted() -> None:
    options = EdssOptions(count_cerebral_grade_1=False)

    assert edss(options=options, cerebral=2).step == Decimal("2.0")


def test_ambulation_1_lifts_fs_at_1_5_to_2_0_by_default() -> None:
    result = edss(1, sensory=1, brainstem=1)

    assert result.step == Decimal("2.0")
    assert result.ambulation_step == Decimal("2.0")
    assert result.inconsistencies == ()


def test_ambulation_1_leaves_the_fs_step_when_switched_off() -> None:
    options = EdssOptions(ambulation_1_gives_at_least_2=False)

    result = edss(1, options=options, sensory=1, brainstem=1)

    assert result.step == Decimal("1.5")
    assert result.ambulation_step is None


def test_ambulation_1_below_2_0_is_reported_when_switched_off() -> None:
    options = EdssOptions(ambulation_1_gives_at_least_2=False)

    (warning,) = edss(1, options=options).inconsistencies

    assert "Ambulation score 1" in warning
    assert "switched off" in warning


def test_ambulation_1_with_fs_at_2_0_needs_no_warning_when_switched_off() -> None:
    options = EdssOptions(ambulation_1_gives_at_least_2=False)

    assert edss(1, options=options, pyramidal=2).inconsistencies == ()


def test_result_records_the_options_used() -> None:
    options = EdssOptions(count_cerebral_grade_1=False)

    assert edss(options=options).options == options
    assert edss().options == DEFAULT_OPTIONS


# Inconsistencies are reported, never "fixed".
def test_severe_walking_restriction_with_mild_fs_is_reported() -> None:
    result = edss(3, pyramidal=2)

    assert result.step == Decimal("5.0")  # computed by the rules all the same
    (warning,) = result.inconsistencies
    assert "FS grades alone give only 2.0" in warning


def test_wheelchair_with_fs_at_4_0_is_reported() -> None:
    assert len(edss(10, pyramidal=4).inconsistencies) == 1


def test_walking_restriction_explained_by_fs_at_4_5_is_not_reported() -> None:
    assert edss(6, pyramidal=4, cerebellar=3).inconsistencies == ()


def test_ambulation_2_with_mild_fs_is_not_reported() -> None:
    # §7.4 row 4.5 names "any lower combination with ambulation score 2" as a normal case.
    assert edss(2, pyramidal=1).inconsistencies == ()


@pytest.mark.parametrize(
    ("grades", "name"),
    [
        pytest.param({"pyramidal": 5}, "Pyramidal grade 5", id="pyramidal-5"),
        pytest.param({"pyramidal": 6}, "Pyramidal grade 6", id="pyramidal-6"),
        pytest.param({"cerebellar": 5}, "Cerebellar grade 5", id="cerebellar-5"),
    ],
)
@pytest.mark.parametrize("ambulation", [0, 1])
def test_fully_ambulatory_with_fs_that_rule_out_walking_is_reported(
    grades: dict[str, int], name: str, ambulation: int
) -> None:
    result = exam(grades, ambulation)

    assert result.step == Decimal("5.0")
    (warning,) = result.inconsistencies
    assert warning.startswith(name)


def test_fully_ambulatory_with_pyramidal_4_is_not_reported() -> None:
    # §7.4 row 4.0 allows one FS at grade 4 with walking of 500 m or more.
    assert edss(0, pyramidal=4).inconsistencies == ()


def test_pyramidal_5_with_restricted_walking_is_not_reported() -> None:
    assert edss(3, pyramidal=5).inconsistencies == ()


def test_a_consistent_exam_has_no_inconsistencies() -> None:
    assert edss(0, pyramidal=2, sensory=1).inconsistencies == ()


# Invalid input: ValueError naming the field and its range.
@pytest.mark.parametrize("name", FS_ORDER)
def test_fs_grade_above_its_range_is_rejected_with_its_range(name: str) -> None:
    low, high = FS_RANGES[name]

    with pytest.raises(ValueError, match=f"^{FS_NAMES[name]} must be .* from {low} to {high}"):
        exam({name: high + 1})


@pytest.mark.parametrize("name", FS_ORDER)
def test_negative_fs_grade_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=FS_NAMES[name]):
        exam({name: -1})


@pytest.mark.parametrize("name", FS_ORDER)
def test_missing_fs_grade_is_rejected(name: str) -> None:
    with pytest.raises(EdssInputError, match=f"{FS_NAMES[name]} is missing") as caught:
        exam({name: None})

    assert caught.value.field == name


def test_ambulation_above_16_is_rejected_with_its_range() -> None:
    with pytest.raises(
        EdssInputError, match="Ambulation must be a whole number from 0 to 16"
    ) as caught:
        edss(17)

    assert caught.value.field == "ambulation"


def test_missing_ambulation_is_rejected() -> None:
    with pytest.raises(ValueError, match="Ambulation is missing"):
        exam({}, ambulation=None)


@pytest.mark.parametrize("value", [True, 2.0, "2"], ids=["bool", "float", "text"])
def test_grade_that_is_not_a_whole_number_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="Pyramidal must be a whole number"):
        edss(pyramidal=value)  # type: ignore[arg-type]


def test_ranges_and_names_cover_every_fs() -> None:
    assert set(FS_RANGES) == set(FS_NAMES) == set(FS_ORDER)
    assert AMBULATION_RANGE == (0, 16)
    assert set(AMBULATION_LABELS) == set(range(17))


def test_rule_names_the_deciding_row_in_plain_words() -> None:
    assert edss(pyramidal=2, sensory=2).rule == (
        "EDSS 2.5 from the FS grades (§7.4): two FS at grade 2, others 1 or 0."
    )


def test_result_is_frozen() -> None:
    result = edss()

    with pytest.raises(AttributeError):
        result.step = Decimal("1.0")  # type: ignore[misc]
