"""Natalizumab PML risk stratification (treatments/pml.py, reference §4)."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from treatments.safety import pml
from treatments.safety.pml import JcvReading, JcvResult

D = Decimal


def positive(index, on=date(2026, 1, 10)):
    return JcvResult(tested_on=on, index=D(index))


def negative(on=date(2025, 1, 10), index="0.10"):
    return JcvResult(tested_on=on, index=D(index))


def assess(results, *, prior_is=False, months=None, **kwargs):
    return pml.assess_pml_risk(
        jcv_results=results, prior_immunosuppressant=prior_is, exposure_months=months, **kwargs
    )


# --- reading the index ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "reading"),
    [
        pytest.param("0.19", JcvReading.NEGATIVE, id="0.19-negative"),
        pytest.param("0.20", JcvReading.INDETERMINATE, id="0.20-indeterminate"),
        pytest.param("0.40", JcvReading.INDETERMINATE, id="0.40-indeterminate"),
        pytest.param("0.41", JcvReading.POSITIVE, id="0.41-positive"),
    ],
)
def test_read_index_bands(index, reading):
    assert pml.read_index(D(index)) is reading


def test_confirmation_assay_status_decides_an_indeterminate_index():
    result = JcvResult(tested_on=date(2026, 1, 1), index=D("0.30"), status=JcvReading.NEGATIVE)
    assert result.reading is JcvReading.NEGATIVE


def test_status_given_as_text_is_accepted():
    assert JcvResult(tested_on=date(2026, 1, 1), status="positive").reading is JcvReading.POSITIVE


def test_result_needs_an_index_or_a_status():
    with pytest.raises(ValueError, match="index or a status"):
        JcvResult(tested_on=date(2026, 1, 1))


@pytest.mark.parametrize(
    ("index", "status"),
    [
        pytest.param("0.10", "positive", id="low-index-reported-positive"),
        pytest.param("0.90", "negative", id="high-index-reported-negative"),
    ],
)
def test_status_contradicting_the_index_is_refused(index, status):
    with pytest.raises(ValueError, match="contradicts"):
        JcvResult(tested_on=date(2026, 1, 1), index=D(index), status=status)


def test_negative_index_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        JcvResult(tested_on=date(2026, 1, 1), index=D("-0.1"))


# --- categories and their MRI interval -------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "prior_is", "months", "category", "mri", "grade"),
    [
        pytest.param([negative()], False, 30, "lowest", 12, "INFO", id="jcv-negative"),
        pytest.param([positive("0.9")], False, 60, "low", 6, "INFO", id="low"),
        pytest.param([positive("1.2")], False, 10, "first_24_months", 12, "INFO", id="first-24"),
        pytest.param([positive("1.2")], False, 30, "intermediate", 6, "WARNING", id="intermediate"),
        pytest.param([positive("2.0")], False, 30, "high", 3, "CRITICAL", id="high-index"),
        pytest.param([positive("0.5")], True, 30, "high", 3, "CRITICAL", id="high-prior-is"),
        pytest.param([], False, 30, "unknown", None, "WARNING", id="no-jcv-result"),
    ],
)
def test_category_mri_interval_and_grade(results, prior_is, months, category, mri, grade):
    risk = assess(results, prior_is=prior_is, months=months)
    assert (risk.category, risk.mri_interval_months, risk.grade) == (category, mri, grade)


def test_category_keys_are_stable():
    assert set(pml.CATEGORIES) == {
        "unknown",
        "lowest",
        "low",
        "first_24_months",
        "intermediate",
        "high",
    }


def test_label_comes_from_the_category():
    assert assess([positive("2.0")], months=30).label == pml.CATEGORIES["high"]


def test_jcv_negative_retests_every_6_months():
    assert assess([negative()], months=30).jcv_retest_months == 6


def test_jcv_negative_does_not_need_exposure():
    assert assess([negative()], months=None).category == "lowest"


def test_indeterminate_index_confirmed_negative_is_lowest():
    result = JcvResult(tested_on=date(2026, 1, 1), index=D("0.35"), status="negative")
    assert assess([result], months=30).category == "lowest"


def test_unconfirmed_indeterminate_index_is_unknown_and_asks_for_confirmation():
    risk = assess([JcvResult(tested_on=date(2026, 1, 1), index=D("0.30"))], months=30)
    assert (risk.category, risk.jcv_retest_months) == ("unknown", 0)
    assert "confirmation" in risk.explanation


def test_no_result_asks_for_a_test_now():
    risk = assess([], months=30)
    assert (risk.jcv_retest_months, risk.estimated_risk_per_1000) == (0, "not estimable")


# --- index bands ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "category"),
    [
        pytest.param("0.9", "low", id="0.9-low"),
        pytest.param("0.91", "intermediate", id="0.91-intermediate"),
        pytest.param("1.5", "intermediate", id="1.5-intermediate"),
        pytest.param("1.51", "high", id="1.51-high"),
    ],
)
def test_index_band_boundaries_after_24_months(index, category):
    assert assess([positive(index)], months=25).category == category


def test_low_index_is_low_risk_at_any_duration():
    assert assess([positive("0.5")], months=6).category == "low"


def test_low_index_with_prior_immunosuppressant_is_not_low():
    assert assess([positive("0.5")], prior_is=True, months=6).category == "first_24_months"


# --- the 24-month threshold -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "category"),
    [
        pytest.param(24, "first_24_months", id="24-months-still-first-period"),
        pytest.param(25, "high", id="25-months-high"),
    ],
)
def test_high_risk_starts_after_24_months(months, category):
    assert assess([positive("2.0")], months=months).category == category


@pytest.mark.parametrize(
    ("months", "grade"),
    [
        pytest.param(17, "INFO", id="17-months-info"),
        pytest.param(18, "WARNING", id="18-months-warning"),
    ],
)
def test_first_24_months_warns_from_18_months(months, grade):
    assert assess([positive("1.2")], months=months).grade == grade


@pytest.mark.parametrize(
    ("index", "prior_is", "months", "mri"),
    [
        pytest.param("1.2", False, 17, 12, id="before-18-months-yearly"),
        pytest.param("1.2", False, 18, 6, id="index-le-1.5-6-monthly"),
        pytest.param("2.0", False, 18, 3, id="index-gt-1.5-3-monthly"),
        pytest.param("1.2", True, 18, 3, id="prior-is-3-monthly"),
        pytest.param("1.2", None, 18, 3, id="prior-is-unknown-3-monthly"),
    ],
)
def test_first_24_months_mri_interval(index, prior_is, months, mri):
    risk = assess([positive(index)], prior_is=prior_is, months=months)
    assert (risk.category, risk.mri_interval_months) == ("first_24_months", mri)


@pytest.mark.parametrize(
    ("months", "mri"),
    [
        pytest.param(17, 12, id="17-months-yearly"),
        pytest.param(18, 6, id="18-months-6-monthly"),
        pytest.param(None, 6, id="exposure-unknown-6-monthly"),
    ],
)
def test_low_risk_mri_interval(months, mri):
    risk = assess([positive("0.6")], months=months)
    assert (risk.category, risk.mri_interval_months) == ("low", mri)


def test_low_risk_warns_when_the_index_rises_after_24_months():
    results = [positive("0.5", date(2025, 6, 1)), positive("0.8", date(2026, 1, 1))]
    assert assess(results, months=30).grade == "WARNING"


def test_low_risk_does_not_warn_for_a_rising_index_within_24_months():
    results = [positive("0.5", date(2025, 6, 1)), positive("0.8", date(2026, 1, 1))]
    assert assess(results, months=24).grade == "INFO"


def test_low_risk_does_not_warn_for_a_falling_index():
    results = [positive("0.8", date(2025, 6, 1)), positive("0.5", date(2026, 1, 1))]
    assert assess(results, months=30).grade == "INFO"


# --- retesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "prior_is", "retest"),
    [
        pytest.param("1.5", False, 6, id="index-1.5-retest"),
        pytest.param("1.6", False, None, id="index-above-1.5-no-retest"),
        pytest.param("0.8", True, None, id="prior-is-no-retest"),
    ],
)
def test_positive_retest_interval(index, prior_is, retest):
    assert assess([positive(index)], prior_is=prior_is, months=30).jcv_retest_months == retest


# --- missing data -------------------------------------------------------------------------------


def test_positive_without_exposure_is_unknown():
    risk = assess([positive("1.2")], months=None)
    assert (risk.category, risk.mri_interval_months) == ("unknown", None)
    assert "exposure" in risk.explanation


def test_prior_immunosuppressant_not_recorded_after_24_months_is_unknown():
    risk = assess([positive("1.2")], prior_is=None, months=30)
    assert risk.category == "unknown"
    assert "immunosuppressant" in risk.explanation


def test_index_above_1_5_is_high_even_if_prior_immunosuppressant_is_not_recorded():
    assert assess([positive("1.8")], prior_is=None, months=30).category == "high"


def test_positive_without_index_after_24_months_is_unknown_and_asks_for_the_index():
    result = JcvResult(tested_on=date(2026, 1, 1), status="positive")
    risk = assess([result], months=30)
    assert (risk.category, risk.jcv_retest_months) == ("unknown", 0)


def test_positive_without_index_but_prior_immunosuppressant_is_high():
    result = JcvResult(tested_on=date(2026, 1, 1), status="positive")
    assert assess([result], prior_is=True, months=30).category == "high"


# --- exposure inputs ----------------------------------------------------------------------------


def test_infusions_count_as_months_when_months_are_missing():
    risk = pml.assess_pml_risk(
        jcv_results=[positive("1.2")], prior_immunosuppressant=False, infusions=25
    )
    assert (risk.category, risk.exposure_months) == ("intermediate", 25)


def test_months_win_over_infusions():
    risk = pml.assess_pml_risk(
        jcv_results=[positive("1.2")],
        prior_immunosuppressant=False,
        exposure_months=20,
        infusions=30,
    )
    assert risk.category == "first_24_months"


def test_negative_exposure_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        assess([negative()], months=-1)


def test_extended_interval_dosing_leaves_the_category_unchanged():
    standard = assess([positive("2.0")], months=30)
    extended = assess([positive("2.0")], months=30, extended_interval_dosing=True)
    assert (extended.category, extended.mri_interval_months) == (
        standard.category,
        standard.mri_interval_months,
    )


def test_extended_interval_dosing_is_explained():
    risk = assess([positive("2.0")], months=30, extended_interval_dosing=True)
    assert "Extended-interval dosing" in risk.explanation


def test_extended_interval_dosing_with_infusion_count_asks_for_months():
    risk = pml.assess_pml_risk(
        jcv_results=[positive("2.0")],
        prior_immunosuppressant=False,
        infusions=30,
        extended_interval_dosing=True,
    )
    assert "record exposure in months" in risk.explanation


# --- history: seroconversion and index choice ------------------------------------------------


def test_seroconversion_is_flagged():
    risk = assess([negative(date(2025, 6, 1)), positive("0.6", date(2026, 1, 1))], months=30)
    assert (risk.seroconverted, risk.category) == (True, "low")


def test_seroconversion_changes_the_category():
    before = assess([negative(date(2025, 6, 1))], months=24)
    after = assess([negative(date(2025, 6, 1)), positive("1.2", date(2026, 1, 1))], months=30)
    assert pml.category_changed(before, after)


def test_first_seroconversion_returns_the_first_positive_after_a_negative():
    first_positive = positive("0.6", date(2026, 1, 1))
    results = [positive("0.9", date(2026, 7, 1)), first_positive, negative(date(2025, 6, 1))]
    assert pml.first_seroconversion(results) == first_positive


def test_always_positive_is_not_a_seroconversion():
    results = [positive("0.6", date(2025, 1, 1)), positive("0.9", date(2026, 1, 1))]
    assert pml.first_seroconversion(results) is None


def test_negative_after_positive_keeps_the_patient_positive():
    # ~3% false negatives (§4.1): a later negative does not downgrade the category.
    results = [positive("1.2", date(2025, 6, 1)), negative(date(2026, 1, 1))]
    assert assess(results, months=30).category == "intermediate"


def test_highest_index_on_record_sets_the_band():
    results = [positive("1.8", date(2025, 6, 1)), positive("1.2", date(2026, 1, 1))]
    risk = assess(results, months=30)
    assert (risk.category, risk.index_used) == ("high", D("1.8"))


def test_explanation_names_the_latest_and_the_highest_index():
    results = [positive("1.8", date(2025, 6, 1)), positive("1.2", date(2026, 1, 1))]
    explanation = assess(results, months=30).explanation
    assert "Latest index 1.2" in explanation
    assert "highest on record 1.8" in explanation


def test_result_order_does_not_matter():
    in_order = [negative(date(2025, 6, 1)), positive("1.2", date(2026, 1, 1))]
    assert assess(in_order, months=30) == assess(list(reversed(in_order)), months=30)


# --- risk estimates (§4.3) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "prior_is", "months", "estimate"),
    [
        pytest.param([negative()], False, 24, "~0.02", id="negative-no-is-1-24"),
        pytest.param([negative()], False, 25, "~0.2", id="negative-no-is-25-48"),
        pytest.param([negative()], True, 24, "~0.06", id="negative-is-1-24"),
        pytest.param([negative()], True, 49, "~0.9", id="negative-is-49-72"),
        pytest.param([negative()], False, None, "~0.02 to ~0.2", id="negative-exposure-unknown"),
        pytest.param([positive("1.2")], False, 24, "~0.2", id="index-le-1.5-1-24"),
        pytest.param([positive("1.2")], False, 48, "~1.1", id="index-le-1.5-25-48"),
        pytest.param([positive("1.2")], False, 49, "~1.4", id="index-le-1.5-49-72"),
        pytest.param([positive("2.0")], False, 24, "~1.2", id="index-gt-1.5-1-24"),
        pytest.param([positive("2.0")], False, 25, "~8.8", id="index-gt-1.5-25-48"),
        pytest.param([positive("2.0")], False, 72, "~10.1", id="index-gt-1.5-49-72"),
        pytest.param([positive("0.5")], True, 12, "~6", id="prior-is-1-24"),
        pytest.param([positive("0.5")], True, 30, "~12", id="prior-is-25-48"),
        pytest.param([positive("0.5")], True, 60, "~13", id="prior-is-49-72"),
    ],
)
def test_estimated_risk_per_1000(results, prior_is, months, estimate):
    assert assess(results, prior_is=prior_is, months=months).estimated_risk_per_1000 == estimate


def test_index_not_known_uses_its_own_row():
    result = JcvResult(tested_on=date(2026, 1, 1), status="positive")
    assert assess([result], months=10).estimated_risk_per_1000 == "~1"


def test_prior_immunosuppressant_not_recorded_quotes_the_higher_row():
    assert assess([negative()], prior_is=None, months=10).estimated_risk_per_1000 == "~0.06"


def test_exposure_beyond_72_months_is_marked_as_extrapolated():
    risk = assess([positive("1.2")], months=80)
    assert risk.estimated_risk_per_1000 == "~1.4"
    assert "beyond 72 months" in risk.risk_basis


# --- category change --------------------------------------------------------------------------


def test_category_changed_when_the_key_differs():
    assert pml.category_changed(
        assess([positive("1.2")], months=24), assess([positive("1.2")], months=25)
    )


def test_category_unchanged_when_only_the_index_moves_within_a_band():
    old = assess([positive("1.0")], months=30)
    new = assess([positive("1.0", date(2025, 1, 1)), positive("1.4")], months=36)
    assert not pml.category_changed(old, new)


def test_pml_risk_is_frozen():
    risk = assess([negative()], months=30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        risk.category = "high"


def test_risk_basis_says_when_prior_immunosuppressant_is_not_recorded():
    assert "not recorded" in assess([negative()], prior_is=None, months=10).risk_basis


# --- the surveillance the worklist schedules ------------------------------------------------


@pytest.mark.parametrize(
    ("results", "prior_is", "expected"),
    [
        pytest.param([negative()], True, "", id="negative-no-condition"),
        pytest.param([negative(), positive("0.30")], False, "", id="indeterminate-not-positive"),
        pytest.param([positive("0.5")], False, "jcv_positive", id="low-index-no-IS"),
        pytest.param([positive("1.4")], False, "jcv_positive", id="index-1.4-no-IS"),
        pytest.param([positive("1.6")], False, "pml_high_risk", id="index-above-1.5"),
        pytest.param([positive("0.5")], True, "pml_high_risk", id="prior-IS-at-any-index"),
        pytest.param([positive("0.5")], None, "pml_high_risk", id="IS-not-recorded"),
        pytest.param(
            [JcvResult(tested_on=date(2026, 1, 10), status=JcvReading.POSITIVE)],
            False,
            "pml_high_risk",
            id="positive-without-index",
        ),
    ],
)
def test_the_risk_features_choose_the_surveillance_mri(results, prior_is, expected):
    # §4.2/§4.4: prior immunosuppressant with a positive JCV is high risk at any index; a
    # missing answer never lengthens surveillance. Exposure does not change the schedule.
    for months in (6, 30):
        assert assess(results, prior_is=prior_is, months=months).schedule_condition == expected


def test_once_positive_the_surveillance_stays_on_after_a_negative_retest():
    risk = assess([positive("0.6"), negative(on=date(2026, 7, 1))], months=20)
    assert risk.schedule_condition == "jcv_positive"
