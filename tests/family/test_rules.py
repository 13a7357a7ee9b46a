"""The family-planning rules of the catalogue, as pure functions (§6, §10)."""

from __future__ import annotations

from datetime import date

import pytest

from treatments.protocols import drug_keys
from treatments.protocols.family import (
    DEFERRED_IN_PREGNANCY,
    BeforeConception,
    Breastfeeding,
    elimination_confirmed_on,
    family_drug_keys,
    family_rule,
    plan_conception,
    restart_after_delivery,
)
from treatments.protocols.family_dates import pregnancy_date_problems

TODAY = date(2026, 6, 15)
CONCEIVE = date(2027, 1, 15)


def test_every_drug_of_the_catalogue_has_a_family_rule_with_a_source():
    # aHSCT is a procedure: the transplant centre advises (no rule, by design).
    assert family_drug_keys() == set(drug_keys()) - {"general", "ahsct"}
    for region in ("US", "EU"):
        for key in family_drug_keys():
            rule = family_rule(key, region)
            assert rule is not None, key
            assert rule.source, key
            assert rule.text, key


def test_interferon_continues_and_is_compatible_with_breastfeeding():
    rule = family_rule("interferon_beta_1a_sc", "EU")
    advice = plan_conception(rule, conceive_on=CONCEIVE, today=TODAY)
    assert rule is not None
    assert rule.breastfeeding == Breastfeeding.COMPATIBLE
    assert advice.steps[0].action.startswith("Continue Interferon")
    assert advice.conception_fits


def test_fingolimod_is_stopped_two_months_before_conception():
    advice = plan_conception(family_rule("fingolimod", "EU"), conceive_on=CONCEIVE, today=TODAY)
    stop = advice.steps[0]
    assert stop.on == date(2026, 11, 15)
    assert stop.action.startswith("Stop Fingolimod")
    assert advice.earliest_conception_on == CONCEIVE


@pytest.mark.parametrize(
    ("drug", "stop_on"),
    [
        ("siponimod", date(2027, 1, 5)),  # 10 days
        ("ponesimod", date(2027, 1, 8)),  # 1 week
        ("ozanimod", date(2026, 10, 15)),  # 3 months
    ],
)
def test_each_s1p_modulator_has_its_own_washout(drug: str, stop_on: date):
    advice = plan_conception(family_rule(drug, "EU"), conceive_on=CONCEIVE, today=TODAY)
    assert advice.steps[0].on == stop_on


def test_a_washout_that_no_longer_fits_moves_the_earliest_conception():
    # Fingolimod needs 2 months; conception planned in 3 weeks.
    advice = plan_conception(
        family_rule("fingolimod", "EU"), conceive_on=date(2026, 7, 6), today=TODAY
    )
    assert advice.steps[0].on == TODAY
    assert advice.earliest_conception_on == date(2026, 8, 15)
    assert "earliest conception is 15 Aug 2026" in advice.warnings[0]


def test_alemtuzumab_needs_four_months_after_the_last_course():
    rule = family_rule("alemtuzumab", "EU")
    fits = plan_conception(rule, conceive_on=CONCEIVE, today=TODAY, last_dose_on=date(2026, 6, 1))
    assert fits.conception_fits
    assert fits.steps[0].on == date(2026, 9, 15)  # no course after this
    late = plan_conception(rule, conceive_on=CONCEIVE, today=TODAY, last_dose_on=date(2026, 10, 1))
    assert late.earliest_conception_on == date(2027, 2, 1)
    assert not late.conception_fits


def test_cladribine_needs_six_months_after_the_course_and_applies_to_fathers():
    rule = family_rule("cladribine", "EU")
    advice = plan_conception(
        rule, conceive_on=CONCEIVE, today=TODAY, last_dose_on=date(2026, 9, 1), father=True
    )
    assert advice.earliest_conception_on == date(2027, 3, 1)


def test_a_father_on_fingolimod_is_asked_nothing():
    advice = plan_conception(
        family_rule("fingolimod", "EU"), conceive_on=CONCEIVE, today=TODAY, father=True
    )
    assert advice.steps[0].action.startswith("Continue Fingolimod")
    assert advice.conception_fits


def test_ocrelizumab_gap_follows_the_label_region():
    us = family_rule("ocrelizumab_iv", "US")
    eu = family_rule("ocrelizumab_iv", "EU")
    assert us is not None
    assert eu is not None
    assert (us.wait, eu.wait) == (6, 4)
    assert eu.breastfeeding == Breastfeeding.COMPATIBLE
    assert us.breastfeeding == Breastfeeding.AVOID


def test_teriflunomide_elimination_is_planned_six_weeks_ahead_with_two_levels():
    rule = family_rule("teriflunomide", "EU")
    assert rule is not None
    assert rule.before == BeforeConception.ACCELERATED_ELIMINATION
    advice = plan_conception(rule, conceive_on=CONCEIVE, today=TODAY)
    start, first, second, conception = advice.steps
    assert start.on == date(2026, 12, 4)
    assert first.on == date(2026, 12, 15)  # after 11 days of elimination
    assert second.on == date(2026, 12, 29)  # at least 14 days after the first
    assert conception.on == CONCEIVE


def test_levels_confirm_elimination_only_two_below_target_fourteen_days_apart():
    assert elimination_confirmed_on([(date(2026, 7, 1), 0.01)]) is None
    # 13 days apart is not enough.
    assert elimination_confirmed_on([(date(2026, 7, 1), 0.01), (date(2026, 7, 14), 0.01)]) is None
    assert elimination_confirmed_on([(date(2026, 7, 1), 0.01), (date(2026, 7, 15), 0.015)]) == date(
        2026, 7, 15
    )


def test_a_level_at_the_target_starts_the_count_again():
    levels = [(date(2026, 7, 1), 0.01), (date(2026, 7, 10), 0.02), (date(2026, 7, 20), 0.01)]
    assert elimination_confirmed_on(levels) is None
    assert elimination_confirmed_on([*levels, (date(2026, 8, 3), 0.005)]) == date(2026, 8, 3)


def test_restart_after_delivery_waits_for_breastfeeding_to_end_when_the_drug_is_not_compatible():
    delivered = date(2027, 10, 1)
    (restart, mri) = restart_after_delivery(
        family_rule("fingolimod", "EU"), delivered_on=delivered, breastfeeding=True
    )
    assert restart.on is None
    assert "when breast-feeding ends" in restart.action
    assert mri.on == date(2028, 1, 1)
    (restart, _) = restart_after_delivery(
        family_rule("fingolimod", "EU"), delivered_on=delivered, breastfeeding=False
    )
    assert restart.on == date(2027, 10, 8)


def test_restart_of_a_breastfeeding_compatible_drug_is_dated():
    (restart, _) = restart_after_delivery(
        family_rule("glatiramer", "EU"), delivered_on=date(2027, 10, 1), breastfeeding=True
    )
    assert restart.on == date(2027, 10, 8)
    assert "compatible with breast-feeding" in restart.action


def test_mri_is_what_pregnancy_defers():
    assert [investigation for investigation, _, _ in DEFERRED_IN_PREGNANCY] == ["mri_brain"]


def test_impossible_pregnancy_dates_are_named_by_field():
    born = date(1994, 3, 2)
    assert (
        "male"
        in pregnancy_date_problems(
            sex="male", born_on=born, conceived_on=date(2026, 5, 1), today=TODAY
        )["conceived_on"]
    )
    assert pregnancy_date_problems(
        sex="female",
        born_on=born,
        conceived_on=date(2026, 5, 1),
        ended_on=date(2026, 4, 1),
        today=TODAY,
    ) == {"ended_on": "The pregnancy cannot end before the conception date."}
    assert (
        "future"
        in pregnancy_date_problems(
            sex="female", born_on=born, conceived_on=date(2026, 7, 1), today=TODAY
        )["conceived_on"]
    )
    # A conception at age 5 is a typo in the year.
    assert (
        "was 5"
        in pregnancy_date_problems(
            sex="female", born_on=born, conceived_on=date(1999, 6, 1), today=TODAY
        )["conceived_on"]
    )
    assert (
        "44 weeks"
        in pregnancy_date_problems(
            sex="female",
            born_on=born,
            conceived_on=date(2025, 1, 1),
            ended_on=date(2025, 12, 1),
            today=TODAY,
        )["ended_on"]
    )
