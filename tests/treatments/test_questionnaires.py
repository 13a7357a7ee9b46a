"""Scoring patient questionnaires by their published rules (treatments/questionnaires.py):
MSIS-29 v2 (Hobart et al. 2001), MFIS (MS Council 1998) and PHQ-9 (Kroenke et al. 2001)."""

from decimal import Decimal

import pytest

from treatments import outcomes, questionnaires
from treatments.questionnaires import MFIS, MSIS29, PHQ9

D = Decimal


def every(q, value):
    return {item.number: value for item in q.items}


# --- the instruments as published ---------------------------------------------------------------


def test_msis29_has_20_physical_and_9_psychological_items_scored_1_to_4():
    scales = [item.scale for item in MSIS29.items]
    assert [item.number for item in MSIS29.items] == list(range(1, 30))
    assert scales.count("physical") == 20
    assert scales[:20] == ["physical"] * 20
    assert scales.count("psychological") == 9
    assert [o.value for o in MSIS29.options] == [1, 2, 3, 4]


def test_mfis_has_21_items_in_its_three_published_subscales():
    by_scale = {
        scale: [i.number for i in MFIS.items if i.scale == scale]
        for scale in ("physical", "cognitive", "psychosocial")
    }
    assert by_scale == {
        "physical": [4, 6, 7, 10, 13, 14, 17, 20, 21],
        "cognitive": [1, 2, 3, 5, 11, 12, 15, 16, 18, 19],
        "psychosocial": [8, 9],
    }
    assert [o.value for o in MFIS.options] == [0, 1, 2, 3, 4]


def test_phq9_has_nine_items_scored_0_to_3_and_an_unscored_closing_question():
    assert len(PHQ9.items) == 9
    assert [o.value for o in PHQ9.options] == [0, 1, 2, 3]
    assert PHQ9.closing_question
    assert len(PHQ9.closing_options) == 4
    assert "hurting yourself" in PHQ9.items[8].text


def test_every_questionnaire_scores_into_an_outcome_measure():
    for key in questionnaires.QUESTIONNAIRES:
        assert key in outcomes.MEASURES


# --- MSIS-29: (raw - minimum) / (maximum - minimum) x 100 per scale ------------------------------


def test_msis29_lowest_answers_score_0_on_both_scales():
    assert questionnaires.measure_fields("msis29", every(MSIS29, 1)) == {
        "physical": "0.0",
        "psychological": "0.0",
    }


def test_msis29_highest_answers_score_100_on_both_scales():
    assert questionnaires.measure_fields("msis29", every(MSIS29, 4)) == {
        "physical": "100.0",
        "psychological": "100.0",
    }


def test_msis29_transforms_each_scale_from_its_own_range():
    # Physical: 20 items at 2 -> raw 40, (40 - 20) / (80 - 20) x 100 = 33.3.
    # Psychological: 9 items at 3 -> raw 27, (27 - 9) / (36 - 9) x 100 = 66.7.
    answers = {n: 2 if n <= 20 else 3 for n in range(1, 30)}
    fields = questionnaires.measure_fields("msis29", answers)
    assert fields == {"physical": "33.3", "psychological": "66.7"}
    # The stored score is the physical scale (the change rule reads it).
    assert questionnaires.score("msis29", answers) == D("33.3")


def test_msis29_one_step_on_one_physical_item_moves_the_scale_by_one_sixtieth():
    answers = every(MSIS29, 1) | {1: 2}
    assert questionnaires.measure_fields("msis29", answers)["physical"] == "1.7"  # 100/60


# --- MFIS: subscale sums and total ---------------------------------------------------------------


def test_mfis_extremes_are_0_and_84():
    assert questionnaires.score("mfis", every(MFIS, 0)) == D("0")
    assert questionnaires.measure_fields("mfis", every(MFIS, 4)) == {
        "physical": "36",
        "cognitive": "40",
        "psychosocial": "8",
        "total": "84",
    }


def test_mfis_items_count_towards_their_own_subscale():
    # "Often" (3) on the two psychosocial items only.
    answers = every(MFIS, 0) | {8: 3, 9: 3}
    assert questionnaires.measure_fields("mfis", answers) == {
        "physical": "0",
        "cognitive": "0",
        "psychosocial": "6",
        "total": "6",
    }


def test_mfis_total_of_38_is_the_fatigue_cut_off():
    # 9 physical items at 2 (18) + 10 cognitive at 2 (20) = 38, psychosocial 0.
    answers = every(MFIS, 2) | {8: 0, 9: 0}
    assert questionnaires.score("mfis", answers) == D("38")
    assert outcomes.meaningful_change("mfis", D("37"), D("38")).direction == "worse"


# --- PHQ-9: sum, severity bands, change, item 9 -------------------------------------------------


def test_phq9_total_is_the_sum_of_the_nine_items():
    answers = {1: 3, 2: 2, 3: 1, 4: 0, 5: 3, 6: 2, 7: 1, 8: 0, 9: 0}
    assert questionnaires.score("phq9", answers) == D("12")
    assert questionnaires.score("phq9", every(PHQ9, 3)) == D("27")
    assert questionnaires.score("phq9", every(PHQ9, 0)) == D("0")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "None or minimal"),
        (4, "None or minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Moderately severe"),
        (19, "Moderately severe"),
        (20, "Severe"),
        (27, "Severe"),
    ],
)
def test_phq9_severity_bands_at_their_published_edges(total, band):
    assert outcomes.phq9_severity(total) == band


@pytest.mark.parametrize("total", [-1, 28, D("4.5")])
def test_phq9_severity_refuses_impossible_totals(total):
    with pytest.raises(ValueError, match="whole number from 0 to 27"):
        outcomes.phq9_severity(total)


@pytest.mark.parametrize(
    ("previous", "current", "direction"),
    [("10", "15", "worse"), ("10", "14", "none"), ("15", "10", "better"), ("15", "11", "none")],
)
def test_phq9_change_of_five_points_is_meaningful(previous, current, direction):
    assert outcomes.meaningful_change("phq9", previous, current).direction == direction


def test_phq9_item_9_above_not_at_all_is_a_self_harm_answer():
    assert not questionnaires.self_harm_reported(every(PHQ9, 3) | {9: 0})
    for value in (1, 2, 3):
        assert questionnaires.self_harm_reported(every(PHQ9, 0) | {9: value})


def test_phq9_is_patient_reported_only():
    assert outcomes.MEASURES["phq9"].patient_reported_only
    assert not outcomes.MEASURES["msis29"].patient_reported_only


# --- incomplete or impossible answers -----------------------------------------------------------


def test_every_missing_item_is_named():
    answers = every(MSIS29, 2)
    del answers[5], answers[29]
    assert questionnaires.validate_answers("msis29", answers) == [
        (5, questionnaires.REQUIRED_MESSAGE),
        (29, questionnaires.REQUIRED_MESSAGE),
    ]
    with pytest.raises(questionnaires.IncompleteAnswers) as raised:
        questionnaires.measure_fields("msis29", answers)
    assert [n for n, _ in raised.value.errors] == [5, 29]


@pytest.mark.parametrize("value", [0, 5, "x", "", None, True, "2.5"])
def test_an_answer_outside_the_options_is_refused(value):
    # MSIS-29 v2 answers are 1-4: 0 and 5 are MFIS / v1 values, not MSIS-29 v2 ones.
    answers = every(MSIS29, 2) | {3: value}
    assert [n for n, _ in questionnaires.validate_answers("msis29", answers)] == [3]


def test_answers_given_as_text_are_read_as_numbers():
    assert questionnaires.score("phq9", {n: "1" for n in range(1, 10)}) == D("9")
