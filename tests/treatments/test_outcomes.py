"""Rehabilitation outcome measures (treatments/outcomes.py, reference §8)."""

import dataclasses
from decimal import Decimal

import pytest

from treatments import outcomes
from treatments.outcomes import NON_FIELD

D = Decimal

BBS_ITEMS = {f"item_{n}": 4 for n in range(1, 15)}

VALID = {
    "t25fw": {"trial_1": "6.0", "trial_2": "7.0"},
    "nine_hpt": {"right_1": "20", "right_2": "22", "left_1": "24", "left_2": "26"},
    "sdmt": {"correct": 55},
    "bbs": {"total": 50},
    "six_mwt": {"distance_m": "420"},
    "msis29": {"physical": "35.0", "psychological": "22.2"},
    "mfis": {"physical": 20, "cognitive": 15, "psychosocial": 3},
    "phq9": {f"item_{n}": 1 for n in range(1, 10)},
}


def with_value(measure, field, value):
    return {**VALID[measure], field: value}


def errors_for(measure, fields, field):
    return [message for name, message in outcomes.validate(measure, fields) if name == field]


def test_measure_keys_are_stable():
    assert set(outcomes.MEASURES) == set(VALID)


@pytest.mark.parametrize("measure", sorted(VALID))
def test_valid_entry_has_no_errors(measure):
    assert outcomes.validate(measure, VALID[measure]) == []


@pytest.mark.parametrize(
    ("measure", "higher_is_better"),
    [
        pytest.param("t25fw", False, id="t25fw"),
        pytest.param("nine_hpt", False, id="nine-hpt"),
        pytest.param("sdmt", True, id="sdmt"),
        pytest.param("bbs", True, id="bbs"),
        pytest.param("six_mwt", True, id="six-mwt"),
        pytest.param("msis29", False, id="msis29"),
        pytest.param("mfis", False, id="mfis"),
    ],
)
def test_direction_of_each_measure(measure, higher_is_better):
    assert outcomes.get_measure(measure).higher_is_better is higher_is_better


# --- range edges ------------------------------------------------------------------------------


RANGE_EDGES = [
    ("t25fw", "trial_1", "0", False),
    ("t25fw", "trial_1", "0.1", True),
    ("t25fw", "trial_2", "180", True),
    ("t25fw", "trial_2", "180.1", False),
    ("nine_hpt", "right_1", "0", False),
    ("nine_hpt", "right_2", "300", True),
    ("nine_hpt", "left_1", "300.1", False),
    ("nine_hpt", "left_2", "0.5", True),
    ("sdmt", "correct", "-1", False),
    ("sdmt", "correct", "0", True),
    ("sdmt", "correct", "110", True),
    ("sdmt", "correct", "111", False),
    ("bbs", "total", "0", True),
    ("bbs", "total", "56", True),
    ("bbs", "total", "57", False),
    ("bbs", "total", "-1", False),
    ("six_mwt", "distance_m", "-1", False),
    ("six_mwt", "distance_m", "0", True),
    ("six_mwt", "distance_m", "1000", True),
    ("six_mwt", "distance_m", "1000.1", False),
    ("msis29", "physical", "-0.1", False),
    ("msis29", "physical", "0", True),
    ("msis29", "physical", "100", True),
    ("msis29", "physical", "100.1", False),
    ("msis29", "psychological", "0", True),
    ("msis29", "psychological", "100", True),
    ("msis29", "psychological", "100.1", False),
    ("mfis", "physical", "0", True),
    ("mfis", "physical", "36", True),
    ("mfis", "physical", "37", False),
    ("mfis", "cognitive", "40", True),
    ("mfis", "cognitive", "41", False),
    ("mfis", "psychosocial", "8", True),
    ("mfis", "psychosocial", "9", False),
    ("mfis", "psychosocial", "-1", False),
]


@pytest.mark.parametrize(
    ("measure", "field", "value", "valid"),
    [
        pytest.param(*row, id=f"{row[0]}-{row[1]}-{row[2]}-{'ok' if row[3] else 'refused'}")
        for row in RANGE_EDGES
    ],
)
def test_range_edges(measure, field, value, valid):
    assert (errors_for(measure, with_value(measure, field, value), field) == []) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param(0, True, id="0"),
        pytest.param(4, True, id="4"),
        pytest.param(5, False, id="5"),
        pytest.param(-1, False, id="minus-1"),
    ],
)
def test_bbs_item_range(value, valid):
    fields = {**BBS_ITEMS, "item_7": value}
    assert (errors_for("bbs", fields, "item_7") == []) is valid


def test_mfis_total_of_84_is_valid_when_it_matches_the_subscales():
    fields = {"physical": 36, "cognitive": 40, "psychosocial": 8, "total": 84}
    assert outcomes.validate("mfis", fields) == []


def test_out_of_range_message_names_the_limit():
    assert errors_for("t25fw", with_value("t25fw", "trial_1", "200"), "trial_1") == [
        "Must be at most 180 s."
    ]


def test_exclusive_minimum_message():
    assert errors_for("t25fw", with_value("t25fw", "trial_1", "0"), "trial_1") == [
        "Must be more than 0 s."
    ]


@pytest.mark.parametrize(
    ("measure", "field"),
    [
        pytest.param("sdmt", "correct", id="sdmt"),
        pytest.param("bbs", "total", id="bbs"),
        pytest.param("mfis", "physical", id="mfis"),
    ],
)
def test_whole_number_fields_refuse_fractions(measure, field):
    assert errors_for(measure, with_value(measure, field, "10.5"), field) == [
        "Enter a whole number."
    ]


# --- validation mechanics ---------------------------------------------------------------------


def test_missing_required_field_is_reported():
    assert errors_for("t25fw", {"trial_1": "6"}, "trial_2") == ["This field is required."]


def test_blank_string_counts_as_missing():
    assert errors_for("t25fw", with_value("t25fw", "trial_2", "  "), "trial_2") == [
        "This field is required."
    ]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="text"),
        pytest.param("NaN", id="nan"),
        pytest.param(True, id="boolean"),
        pytest.param([6], id="list"),
    ],
)
def test_non_numbers_are_refused(value):
    assert errors_for("t25fw", with_value("t25fw", "trial_1", value), "trial_1") == [
        "Enter a number."
    ]


def test_unknown_field_is_a_non_field_error():
    errors = outcomes.validate("sdmt", {"correct": 50, "corect": 50})
    assert errors == [
        (NON_FIELD, "Unknown field 'corect' for Symbol Digit Modalities Test (oral).")
    ]


def test_unknown_measure_raises():
    with pytest.raises(outcomes.UnknownMeasure, match="known measures"):
        outcomes.validate("edss", {})


def test_bbs_needs_items_or_a_total():
    assert errors_for("bbs", {}, NON_FIELD) == ["Enter the 14 item scores or the total."]


def test_bbs_partial_items_report_each_missing_item():
    fields = {key: 3 for key in list(BBS_ITEMS)[:12]}
    assert [name for name, _ in outcomes.validate("bbs", fields)] == ["item_13", "item_14"]


def test_bbs_total_must_match_the_items():
    fields = {**BBS_ITEMS, "total": 50}
    assert errors_for("bbs", fields, "total") == ["The total must equal the sum of the items (56)."]


def test_mfis_total_must_match_the_subscales():
    fields = {**VALID["mfis"], "total": 40}
    assert errors_for("mfis", fields, "total") == [
        "The total must equal the sum of the subscales (38)."
    ]


# --- scoring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "fields", "expected"),
    [
        pytest.param("t25fw", VALID["t25fw"], "6.5", id="t25fw-mean-of-trials"),
        pytest.param("nine_hpt", VALID["nine_hpt"], "23", id="nine-hpt-mean-of-hand-means"),
        pytest.param("sdmt", VALID["sdmt"], "55", id="sdmt-correct"),
        pytest.param("bbs", VALID["bbs"], "50", id="bbs-total"),
        pytest.param("bbs", {**BBS_ITEMS, "item_1": 2}, "54", id="bbs-sum-of-items"),
        pytest.param("six_mwt", VALID["six_mwt"], "420", id="six-mwt-distance"),
        pytest.param("msis29", VALID["msis29"], "35.0", id="msis29-physical"),
        pytest.param("mfis", VALID["mfis"], "38", id="mfis-total"),
    ],
)
def test_score(measure, fields, expected):
    assert outcomes.score(measure, fields) == D(expected)


def test_nine_hpt_per_hand_means():
    result = outcomes.scores("nine_hpt", VALID["nine_hpt"])
    assert (result["right_mean"], result["left_mean"]) == (D("21"), D("25"))


def test_nine_hpt_msfc_score_is_the_mean_of_the_per_hand_reciprocals():
    # (1/21 + 1/25) / 2 = 0.0438095...
    assert outcomes.scores("nine_hpt", VALID["nine_hpt"])["msfc_score"] == D("0.043810")


def test_msis29_scores_keep_the_psychological_subscale():
    assert outcomes.scores("msis29", VALID["msis29"])["psychological"] == D("22.2")


def test_mfis_scores_keep_the_subscales():
    result = outcomes.scores("mfis", VALID["mfis"])
    assert (result["physical"], result["cognitive"], result["psychosocial"]) == (20, 15, 3)


def test_score_accepts_numbers_as_text_ints_and_decimals():
    fields = {"trial_1": "6.5", "trial_2": D("7.5")}
    assert outcomes.score("t25fw", fields) == D("7")


def test_score_refuses_invalid_fields_with_the_errors():
    with pytest.raises(outcomes.InvalidFields) as excinfo:
        outcomes.score("sdmt", {"correct": 111})
    assert excinfo.value.errors == [("correct", "Must be at most 110 correct.")]


# --- meaningful change ------------------------------------------------------------------------


CHANGES = [
    # T25FW and 9HPT: 20% of the previous time, both ways; higher time is worse.
    ("t25fw", "10", "12", "worse"),
    ("t25fw", "10", "11.9", "none"),
    ("t25fw", "10", "8", "better"),
    ("t25fw", "10", "8.1", "none"),
    ("nine_hpt", "20", "24", "worse"),
    ("nine_hpt", "20", "23.9", "none"),
    ("nine_hpt", "20", "16", "better"),
    ("nine_hpt", "20", "16.1", "none"),
    # SDMT: 4 points; higher is better.
    ("sdmt", "50", "46", "worse"),
    ("sdmt", "50", "47", "none"),
    ("sdmt", "50", "54", "better"),
    ("sdmt", "50", "53", "none"),
    # BBS: crossing the fall-risk cut-off (≤ 45 is at risk).
    ("bbs", "46", "45", "worse"),
    ("bbs", "47", "46", "none"),
    ("bbs", "45", "46", "better"),
    ("bbs", "45", "30", "none"),
    # 6MWT: 20% of the previous distance; higher is better.
    ("six_mwt", "400", "320", "worse"),
    ("six_mwt", "400", "321", "none"),
    ("six_mwt", "400", "480", "better"),
    ("six_mwt", "400", "479", "none"),
    ("six_mwt", "0", "10", "better"),
    # MSIS-29 physical: 8 points; higher is worse.
    ("msis29", "30", "38", "worse"),
    ("msis29", "30", "37.9", "none"),
    ("msis29", "30", "22", "better"),
    ("msis29", "30", "22.1", "none"),
    # MFIS: crossing the fatigue cut-off (total ≥ 38).
    ("mfis", "37", "38", "worse"),
    ("mfis", "38", "37", "better"),
    ("mfis", "38", "60", "none"),
    ("mfis", "10", "37", "none"),
]


@pytest.mark.parametrize(
    ("measure", "previous", "current", "direction"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}-to-{row[2]}-{row[3]}") for row in CHANGES],
)
def test_meaningful_change_direction(measure, previous, current, direction):
    assert outcomes.meaningful_change(measure, D(previous), D(current)).direction == direction


def test_change_reports_delta_and_percent():
    change = outcomes.meaningful_change("t25fw", D("10"), D("12"))
    assert (change.delta, change.percent) == (D("2"), D("20.0"))


def test_change_percent_is_rounded_to_one_decimal():
    assert outcomes.meaningful_change("sdmt", 30, 40).percent == D("33.3")


def test_change_percent_from_zero_is_none():
    assert outcomes.meaningful_change("six_mwt", 0, 10).percent is None


def test_change_carries_the_threshold_text():
    change = outcomes.meaningful_change("sdmt", 50, 54)
    assert change.threshold_text == outcomes.get_measure("sdmt").change_rule.text


def test_no_change_is_none():
    assert outcomes.meaningful_change("sdmt", 50, 50).direction == "none"


@pytest.mark.parametrize(
    ("previous", "current"),
    [
        pytest.param(50, 111, id="current-too-high"),
        pytest.param(-1, 50, id="previous-negative"),
    ],
)
def test_meaningful_change_refuses_scores_outside_the_range(previous, current):
    with pytest.raises(ValueError, match="outside the Symbol Digit"):
        outcomes.meaningful_change("sdmt", previous, current)


def test_change_is_frozen():
    change = outcomes.meaningful_change("sdmt", 50, 54)
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.direction = "worse"


# --- MSIS-29 transform ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "raw", "version", "expected"),
    [
        pytest.param("physical", 20, 2, "0.0", id="v2-physical-min"),
        pytest.param("physical", 80, 2, "100.0", id="v2-physical-max"),
        pytest.param("physical", 50, 2, "50.0", id="v2-physical-mid"),
        pytest.param("psychological", 9, 2, "0.0", id="v2-psychological-min"),
        pytest.param("psychological", 36, 2, "100.0", id="v2-psychological-max"),
        pytest.param("psychological", 18, 2, "33.3", id="v2-psychological-rounded"),
        pytest.param("physical", 100, 1, "100.0", id="v1-physical-max"),
        pytest.param("psychological", 45, 1, "100.0", id="v1-psychological-max"),
    ],
)
def test_msis29_transform(scale, raw, version, expected):
    assert outcomes.msis29_transform(scale, raw, version=version) == D(expected)


@pytest.mark.parametrize(
    ("scale", "raw", "version"),
    [
        pytest.param("physical", 19, 2, id="below-min"),
        pytest.param("physical", 81, 2, id="above-v2-max"),
        pytest.param("social", 20, 2, id="unknown-scale"),
        pytest.param("physical", 20, 3, id="unknown-version"),
    ],
)
def test_msis29_transform_refuses_bad_input(scale, raw, version):
    with pytest.raises(ValueError, match=r"MSIS-29|raw sum"):
        outcomes.msis29_transform(scale, raw, version=version)


# --- review intervals (§8.1) ------------------------------------------------------------------


def test_comprehensive_review_is_at_least_yearly():
    review = next(r for r in outcomes.REVIEW_INTERVALS if r.key == "comprehensive_review")
    assert (review.max_months, review.source) == (12, "NICE-NG220")


def test_review_interval_keys_are_unique():
    keys = [r.key for r in outcomes.REVIEW_INTERVALS]
    assert len(keys) == len(set(keys))
