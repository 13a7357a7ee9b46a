"""One scenario per drug: plan events in, the reference's schedule out (§3.1-§3.17, §8, §10)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from treatments.protocols import (
    CYP2C9_GENOTYPES,
    Applies,
    Comparator,
    Condition,
    GateEvent,
    Grade,
    PlanEvents,
    get_protocol,
    triggered_conditions,
)

from .helpers import START, by_rule, due, months, rule_keys, run, weeks

INTERFERONS = [
    "interferon_beta_1a_im",
    "interferon_beta_1a_sc",
    "peginterferon_beta_1a",
    "interferon_beta_1b",
]


# --- interferons, glatiramer ---------------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "EU"])
@pytest.mark.parametrize("drug", INTERFERONS)
def test_interferon_bloods_at_1_3_6_months_then_6_monthly(drug: str, region: str) -> None:
    items = run(drug, region, horizon=months(24))
    expected = [months(n) for n in (1, 3, 6, 12, 18, 24)]
    assert due(items, "cbc") == expected
    assert due(items, "lft") == expected
    assert due(items, "tsh") == [months(12), months(24)]
    assert due(items, "tsh_thyroid_history") == []


@pytest.mark.parametrize("drug", INTERFERONS)
def test_interferon_thyroid_history_makes_tsh_6_monthly(drug: str) -> None:
    items = run(drug, "EU", horizon=months(24), conditions={"thyroid_history"})
    tsh = sorted(i.due_on for i in items if i.investigation == "tsh")
    assert tsh == [months(n) for n in (6, 12, 18, 24)]


@pytest.mark.parametrize("drug", INTERFERONS)
def test_interferon_stop_ends_monitoring(drug: str) -> None:
    items = run(drug, "US", PlanEvents(START, stopped_on=months(4)))
    assert [i.due_on for i in items] == [months(1), months(1), months(3), months(3)]


@pytest.mark.parametrize("region", ["US", "EU"])
def test_glatiramer_has_no_scheduled_labs_but_an_anaphylaxis_alert(region: str) -> None:
    assert run("glatiramer", region, horizon=months(36)) == []
    protocol = get_protocol("glatiramer", region, on=START)
    anaphylaxis = next(a for a in protocol.alert_rules if a.key == "anaphylaxis")
    assert anaphylaxis.grade == Grade.CRITICAL
    assert "FDA-DSC-2025" in anaphylaxis.source


# --- teriflunomide -------------------------------------------------------------------------------


def test_teriflunomide_us_monthly_alt_for_the_first_six_months() -> None:
    items = run("teriflunomide", "US", horizon=months(6))
    assert due(items, "alt_monthly_6m") == [months(n) for n in range(1, 7)]
    assert {i.investigation for i in items} == {"alt"}
    assert all(i.anchor == "first_dose" and i.anchor_on == START for i in items)


def test_teriflunomide_us_alt_continues_6_monthly_after_month_6() -> None:
    items = run("teriflunomide", "US", horizon=months(24))
    assert due(items, "alt_periodic") == [months(12), months(18), months(24)]


def test_teriflunomide_eu_alt_every_2_weeks_then_every_8_weeks() -> None:
    items = run("teriflunomide", "EU", horizon=weeks(50))
    assert due(items, "alt_2_weekly_6m") == [weeks(n) for n in range(2, 27, 2)]
    assert due(items, "alt_8_weekly") == [weeks(34), weeks(42), weeks(50)]


@pytest.mark.parametrize("region", ["US", "EU"])
def test_teriflunomide_is_not_started_with_baseline_alt_above_2_uln(region: str) -> None:
    protocol = get_protocol("teriflunomide", region, on=START)
    alt = next(g for g in protocol.dose_gates if g.analyte == "alt")
    assert (alt.comparator, alt.threshold, alt.relative_to, alt.before) == (
        Comparator.LE,
        2,
        "uln",
        GateEvent.FIRST_DOSE,
    )
    assert alt.source == "US-PI §5.1"
    assert alt.within_days == 183
    assert bool(alt.verify_note) is (region == "EU")  # the EU protocol borrows the US rule


def test_teriflunomide_stop_drops_remaining_alt_checks() -> None:
    items = run("teriflunomide", "US", PlanEvents(START, stopped_on=months(2) + timedelta(days=3)))
    assert due(items, "alt_monthly_6m") == [months(1), months(2)]


def test_teriflunomide_us_baseline_needs_tb_screen_and_recent_lfts() -> None:
    protocol = get_protocol("teriflunomide", "US", on=START)
    baseline = {c.investigation: c for c in protocol.baseline_checks}
    assert baseline["tb_igra"].required_by_label
    assert baseline["lft"].within_days == 183
    assert "tb_igra" not in {
        c.investigation for c in get_protocol("teriflunomide", "EU", on=START).baseline_checks
    }


# --- fumarates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("drug", ["dimethyl_fumarate", "diroximel_fumarate", "monomethyl_fumarate"])
def test_fumarate_us_lymphocytes_at_6_months_then_6_monthly(drug: str) -> None:
    items = run(drug, "US", horizon=months(24))
    assert due(items, "cbc") == [months(6), months(12), months(18), months(24)]
    assert rule_keys(items) == {"cbc"}


@pytest.mark.parametrize("drug", ["dimethyl_fumarate", "diroximel_fumarate", "monomethyl_fumarate"])
def test_fumarate_eu_3_monthly_counts_and_renal_liver_urine_at_3_6_then_6_monthly(
    drug: str,
) -> None:
    items = run(drug, "EU", horizon=months(18))
    assert due(items, "cbc") == [months(n) for n in (3, 6, 9, 12, 15, 18)]
    for key in ("renal", "urinalysis", "lft"):
        assert due(items, key) == [months(3), months(6), months(12), months(18)], key


def test_fumarate_lymphopenia_alert_needs_six_months_persistence() -> None:
    protocol = get_protocol("dimethyl_fumarate", "EU", on=START)
    alert = next(a for a in protocol.alert_rules if a.key == "lymphocytes_lt_0_5_6m")
    assert (alert.comparator, alert.threshold, alert.grade) == (Comparator.LT, 0.5, Grade.CRITICAL)
    assert alert.persistence_days == 183


def test_dmf_eu_needs_a_reference_mri_within_3_months() -> None:
    protocol = get_protocol("dimethyl_fumarate", "EU", on=START)
    mri = next(c for c in protocol.baseline_checks if c.investigation == "mri_brain")
    assert mri.required_by_label
    assert mri.within_days == 92


def test_drf_baseline_includes_renal_function() -> None:
    protocol = get_protocol("diroximel_fumarate", "US", on=START)
    assert "renal" in {c.investigation for c in protocol.baseline_checks}


def test_mmf_is_flagged_as_not_authorised_in_the_eu() -> None:
    assert get_protocol("monomethyl_fumarate", "US", on=START).authorised_in_region
    eu = get_protocol("monomethyl_fumarate", "EU", on=START)
    assert not eu.authorised_in_region
    assert any("Not authorised in the EU" in note for note in eu.notes)


# --- fingolimod ----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_first_dose_ecg_observation(region: str) -> None:
    items = run("fingolimod", region, horizon=months(1))
    for key in ("first_dose_observation", "ecg_first_dose"):
        [item] = by_rule(items, key)
        assert (item.due_on, item.window_before_days, item.window_after_days) == (START, 0, 0)
        assert item.occurrence == 0


@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_eye_exam_at_3_to_4_months(region: str) -> None:
    [eye] = by_rule(run("fingolimod", region, horizon=months(6)), "eye_exam_3_4m")
    assert eye.due_on == months(3)
    assert eye.window_closes_on >= months(4)
    assert eye.window_opens_on == months(3)


@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_liver_tests_months_1_3_6_9_12_then_6_monthly(region: str) -> None:
    items = run("fingolimod", region, horizon=months(24))
    assert due(items, "lft") == [months(n) for n in (1, 3, 6, 9, 12, 18, 24)]
    assert due(items, "cbc") == [months(3), months(15)]


def test_fingolimod_eu_skin_exam_6_monthly_but_not_in_us() -> None:
    assert due(run("fingolimod", "EU", horizon=months(12)), "skin_exam") == [months(6), months(12)]
    assert due(run("fingolimod", "US", horizon=months(12)), "skin_exam") == []


def test_fingolimod_stop_keeps_liver_tests_for_2_months_and_a_rebound_review() -> None:
    stopped = months(7)
    items = run("fingolimod", "EU", PlanEvents(START, stopped_on=stopped))
    assert due(items, "lft") == [months(1), months(3), months(6)]
    assert due(items, "lft_after_stop") == [months(2, stopped)]
    assert due(items, "review_after_stop") == [months(3, stopped)]
    assert all(i.survives_stop for i in items if i.due_on > stopped)


@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_baseline_qtc_of_500_ms_or_more_refuses_the_start(region: str) -> None:
    protocol = get_protocol("fingolimod", region, on=START)
    qtc = next(g for g in protocol.dose_gates if g.analyte == "qtc")
    assert (qtc.investigation, qtc.comparator, qtc.threshold, qtc.unit, qtc.before) == (
        "ecg",
        Comparator.LT,
        500,
        "ms",
        GateEvent.FIRST_DOSE,
    )
    assert qtc.source == "US-PI §4; EU-SmPC §4.3"
    # The alert says the same thing: a contraindication, not an overnight-monitoring threshold.
    alert = next(a for a in protocol.alert_rules if a.key == "qtc_ge_500")
    assert (alert.threshold, alert.grade) == (500, Grade.GATE)
    assert alert.action == "Contraindicated: do not start fingolimod."
    assert "Corrected 2026-11" in alert.verify_note


@pytest.mark.parametrize("drug", ["siponimod", "ozanimod", "ponesimod"])
def test_other_s1p_modulators_document_why_qtc_does_not_refuse_them(drug: str) -> None:
    protocol = get_protocol(drug, "EU", on=START)
    assert not [g for g in protocol.dose_gates if g.analyte == "qtc"]
    assert any("QTc ≥ 500 ms" in note and "verify" in note for note in protocol.notes)


def _interrupted(day: int, missed: int) -> PlanEvents:
    """Fingolimod from START with one gap beginning on treatment day `day` (day 1 = START)."""
    stopped = START + timedelta(days=day - 1)
    return PlanEvents(START, interruptions=((stopped, stopped + timedelta(days=missed)),))


@pytest.mark.parametrize(
    ("day", "missed", "repeats"),
    [
        pytest.param(5, 1, True, id="weeks-1-2-one-day"),
        pytest.param(14, 1, True, id="day-14-one-day"),
        pytest.param(15, 7, False, id="weeks-3-4-seven-days"),
        pytest.param(20, 8, True, id="weeks-3-4-eight-days"),
        pytest.param(28, 8, True, id="day-28-eight-days"),
        pytest.param(29, 14, False, id="after-month-1-two-weeks"),
        pytest.param(60, 15, True, id="after-month-1-fifteen-days"),
    ],
)
@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_repeats_the_first_dose_observation_after_a_long_enough_gap(
    region: str, day: int, missed: int, repeats: bool
) -> None:
    events = _interrupted(day, missed)
    resumed = events.interruptions[0][1]
    items = run("fingolimod", region, events, horizon=months(6))
    expected = [resumed] if repeats else []
    assert due(items, "first_dose_observation_restart") == expected
    assert due(items, "ecg_restart") == expected
    assert due(items, "first_dose_observation") == [START]  # the first one stays as it was
    for item in by_rule(items, "first_dose_observation_restart"):
        assert "restart after an interruption on" in item.explanation
        assert (item.window_before_days, item.window_after_days) == (0, 0)


def test_a_gap_after_the_stop_schedules_nothing() -> None:
    events = PlanEvents(
        START,
        stopped_on=months(2),
        interruptions=((months(3), months(4)),),
    )
    assert due(run("fingolimod", "EU", events), "first_dose_observation_restart") == []


@pytest.mark.parametrize(
    ("sex", "qtc", "overnight"),
    [
        pytest.param("male", 450, False, id="men-450"),
        pytest.param("male", 451, True, id="men-451"),
        pytest.param("female", 460, False, id="women-460"),
        pytest.param("female", 471, True, id="women-471"),
        pytest.param("female", 499, True, id="women-499"),
        pytest.param("male", 500, False, id="500-is-a-contraindication-not-overnight"),
        pytest.param("unknown", 455, True, id="sex-not-recorded-men's-limit"),
    ],
)
@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_prolonged_baseline_qtc_schedules_overnight_ecg(
    region: str, sex: str, qtc: int, overnight: bool
) -> None:
    protocol = get_protocol("fingolimod", region, on=START)
    conditions = triggered_conditions(protocol, {"qtc": qtc}, sex=sex)
    assert (Condition.PROLONGED_QTC in conditions) is overnight
    items = run("fingolimod", region, horizon=months(1), conditions=conditions)
    assert due(items, "overnight_ecg_prolonged_qtc") == ([START] if overnight else [])


def test_fingolimod_overnight_ecg_rule_records_its_sources_and_choice() -> None:
    protocol = get_protocol("fingolimod", "US", on=START)
    rule = protocol.rule("overnight_ecg_prolonged_qtc")
    assert rule.when == (Condition.PROLONGED_QTC,)
    assert "EU-SmPC §4.2/§4.4" in rule.sources
    assert "contraindication" in rule.verify_note
    assert {(t.sex, t.threshold, t.below) for t in protocol.condition_triggers} == {
        ("male", 450, 500),
        ("female", 470, 500),
    }


# --- siponimod, ozanimod, ponesimod --------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "EU"])
def test_siponimod_counts_and_liver_at_3_months_then_6_monthly(region: str) -> None:
    items = run("siponimod", region, horizon=months(21))
    assert due(items, "cbc") == [months(3), months(9), months(15), months(21)]
    assert due(items, "lft") == [months(3), months(9), months(15), months(21)]
    assert due(items, "first_dose_observation") == []  # only with cardiac risk


def test_siponimod_first_dose_observation_and_eye_exam_are_conditional() -> None:
    items = run(
        "siponimod", "US", horizon=months(6), conditions={"cardiac_risk", "diabetes_or_uveitis"}
    )
    assert due(items, "first_dose_observation") == [START]
    assert due(items, "eye_exam_3_4m") == [months(3)]


def test_siponimod_cyp2c9_3_3_blocks_the_first_dose() -> None:
    protocol = get_protocol("siponimod", "EU", on=START)
    gate = next(g for g in protocol.dose_gates if g.investigation == "cyp2c9")
    assert (gate.comparator, gate.threshold, gate.before) == (
        Comparator.NE,
        "*3/*3",
        GateEvent.FIRST_DOSE,
    )


@pytest.mark.parametrize("region", ["US", "EU"])
def test_siponimod_dose_follows_the_cyp2c9_genotype(region: str) -> None:
    protocol = get_protocol("siponimod", region, on=START)
    assert protocol.genotype_investigation == "cyp2c9"
    by_genotype = {g: d for d in protocol.genotype_dosing for g in d.genotypes}
    assert sorted(by_genotype) == sorted(CYP2C9_GENOTYPES)
    for genotype in ("*1/*1", "*1/*2", "*2/*2"):
        assert by_genotype[genotype].maintenance == "2 mg daily from day 6"
    for genotype in ("*1/*3", "*2/*3"):
        assert by_genotype[genotype].maintenance == "1 mg daily from day 5"
        assert "1.25 mg" not in by_genotype[genotype].titration
    assert by_genotype["*3/*3"].contraindicated
    assert {d.source for d in protocol.genotype_dosing} == {
        "US-PI §2" if region == "US" else "EU-SmPC §4.2"
    }


@pytest.mark.parametrize("region", ["US", "EU"])
def test_ozanimod_monthly_counts_for_6_months_then_4_monthly(region: str) -> None:
    items = run("ozanimod", region, horizon=months(18))
    expected = [months(n) for n in (1, 2, 3, 4, 5, 6, 10, 14, 18)]
    assert due(items, "cbc") == expected
    assert due(items, "lft") == expected


@pytest.mark.parametrize("region", ["US", "EU"])
def test_ponesimod_labs_and_4_hour_first_dose_observation(region: str) -> None:
    items = run("ponesimod", region, horizon=months(15), conditions={"cardiac_risk"})
    assert due(items, "cbc") == [months(3), months(9), months(15)]
    [fdo] = by_rule(items, "first_dose_observation")
    assert fdo.due_on == START
    assert "4-hour" in fdo.explanation


def test_ponesimod_us_requires_baseline_eye_exam_for_all() -> None:
    eye = {
        region: next(
            c
            for c in get_protocol("ponesimod", region, on=START).baseline_checks
            if c.investigation == "eye_exam"
        ).required_by_label
        for region in ("US", "EU")
    }
    assert eye == {"US": True, "EU": False}


@pytest.mark.parametrize(
    ("drug", "region", "day", "missed", "repeats"),
    [
        ("siponimod", "EU", 3, 1, True),  # a missed titration dose
        ("siponimod", "EU", 30, 3, False),
        ("siponimod", "US", 30, 4, True),  # 4 missed maintenance doses
        ("ozanimod", "EU", 20, 8, True),
        ("ozanimod", "US", 20, 8, False),  # US: only the first 2 weeks
        ("ozanimod", "US", 10, 1, True),
        ("ponesimod", "EU", 5, 3, False),  # resume at the first missed titration dose
        ("ponesimod", "US", 90, 4, True),
    ],
)
def test_other_s1p_modulators_repeat_the_observation_after_their_labels_gaps_for_cardiac_risk(
    drug: str, region: str, day: int, missed: int, repeats: bool
) -> None:
    events = _interrupted(day, missed)
    resumed = events.interruptions[0][1]
    with_risk = run(drug, region, events, horizon=months(6), conditions={"cardiac_risk"})
    assert due(with_risk, "first_dose_observation_restart") == ([resumed] if repeats else [])
    # Only the people observed at the start are observed again.
    assert due(run(drug, region, events, horizon=months(6)), "first_dose_observation_restart") == []
    rule = get_protocol(drug, region, on=START).rule("first_dose_observation_restart")
    assert "Restart titration from day 1" in rule.text
    assert rule.verify_note


# --- natalizumab ---------------------------------------------------------------------------------


def _infusions(n: int) -> tuple[date, ...]:
    return tuple(START + timedelta(weeks=4 * i) for i in range(n))


@pytest.mark.parametrize(
    ("drug", "region"),
    [("natalizumab_iv", "US"), ("natalizumab_iv", "EU"), ("natalizumab_sc", "EU")],
)
def test_natalizumab_jcv_antibody_every_6_months(drug: str, region: str) -> None:
    items = run(drug, region, PlanEvents(START, doses=_infusions(14)), horizon=months(30))
    assert due(items, "jcv_antibody") == [months(n) for n in (6, 12, 18, 24, 30)]
    assert all(i.investigation == "jcv_antibody" for i in by_rule(items, "jcv_antibody"))


def test_natalizumab_eu_pml_reconsent_at_2_years() -> None:
    assert due(run("natalizumab_iv", "EU", horizon=months(30)), "pml_reconsent_24m") == [months(24)]
    assert due(run("natalizumab_iv", "US", horizon=months(30)), "pml_reconsent_24m") == []


def test_natalizumab_mri_frequency_follows_the_pml_category() -> None:
    low = run("natalizumab_iv", "EU", horizon=months(30))
    jcv = run("natalizumab_iv", "EU", horizon=months(30), conditions={"jcv_positive"})
    high = run("natalizumab_iv", "EU", horizon=months(30), conditions={"pml_high_risk"})
    assert due(low, "mri_jcv_positive") == due(low, "mri_pml_high_risk") == []
    assert due(jcv, "mri_jcv_positive") == [months(18), months(24), months(30)]
    assert due(high, "mri_pml_high_risk") == [months(n) for n in (18, 21, 24, 27, 30)]


def test_natalizumab_stop_starts_pml_vigilance_and_ends_routine_tests() -> None:
    stopped = months(14)
    events = PlanEvents(START, doses=_infusions(15), stopped_on=stopped)
    items = run("natalizumab_iv", "US", events, conditions={"jcv_positive"})
    assert due(items, "jcv_antibody") == [months(6), months(12)]
    assert due(items, "pml_review_after_stop") == [months(3, stopped), months(6, stopped)]
    assert due(items, "mri_after_stop") == [months(6, stopped)]
    assert due(items, "mri_after_stop_jcv_positive") == [months(n, stopped) for n in (3, 9, 12)]


def test_natalizumab_jcv_negative_gets_one_post_stop_mri() -> None:
    items = run("natalizumab_iv", "EU", PlanEvents(START, stopped_on=months(14)))
    assert due(items, "mri_after_stop") == [months(20)]
    assert due(items, "mri_after_stop_jcv_positive") == []


# --- anti-CD20 -----------------------------------------------------------------------------------


def test_ocrelizumab_iv_split_first_dose_counts_once_and_checks_before_the_next() -> None:
    day_15 = START + timedelta(days=14)
    items = run("ocrelizumab_iv", "US", PlanEvents(START, doses=(day_15,)), horizon=months(12))
    [cbc] = by_rule(items, "cbc_before_dose")
    assert (cbc.anchor_on, cbc.due_on) == (START, weeks(24))
    assert (cbc.window_before_days, cbc.window_after_days) == (28, 0)
    assert due(items, "immunoglobulins") == [months(12)]


def test_ocrelizumab_iv_new_dose_supersedes_the_pre_dose_check() -> None:
    day_15 = START + timedelta(days=14)
    second = weeks(23)  # given a week early
    items = run(
        "ocrelizumab_iv", "EU", PlanEvents(START, doses=(day_15, second)), horizon=months(12)
    )
    assert [(i.anchor_on, i.due_on) for i in by_rule(items, "cbc_before_dose")] == [
        (second, weeks(24, second))
    ]


def test_ocrelizumab_on_time_dose_keeps_the_check_it_was_due_with() -> None:
    second = weeks(24)
    items = run(
        "ocrelizumab_iv",
        "US",
        PlanEvents(START, doses=(START + timedelta(days=14), second)),
        horizon=months(14),
    )
    assert [i.anchor_on for i in by_rule(items, "cbc_before_dose")] == [START, second]


@pytest.mark.parametrize("region", ["US", "EU"])
def test_ocrelizumab_sc_checks_6_months_after_each_dose(region: str) -> None:
    second = months(6)
    items = run("ocrelizumab_sc", region, PlanEvents(START, doses=(second,)), horizon=months(12))
    assert due(items, "cbc_before_dose") == [months(6), months(12)]


def test_ocrelizumab_stop_keeps_immunoglobulins_until_b_cell_repletion() -> None:
    stopped = months(8)
    items = run("ocrelizumab_iv", "US", PlanEvents(START, doses=(months(6),), stopped_on=stopped))
    assert due(items, "immunoglobulins_after_stop") == [months(n, stopped) for n in (6, 12, 18)]
    assert due(items, "cbc_before_dose") == [weeks(24)]
    assert due(items, "immunoglobulins") == []


@pytest.mark.parametrize("region", ["US", "EU"])
def test_ofatumumab_stop_keeps_immunoglobulins_until_b_cells_recover(region: str) -> None:
    # §3.12 (EU-SmPC §4.4, added 2026-11): immunoglobulins after stopping until B-cell recovery.
    stopped = months(20)
    items = run("ofatumumab", region, PlanEvents(START, stopped_on=stopped))
    after = by_rule(items, "immunoglobulins_after_stop")
    assert [i.due_on for i in after] == [months(6, stopped), months(12, stopped)]
    assert all(i.survives_stop and i.source == "EU-SmPC §4.4" for i in after)
    assert due(items, "immunoglobulins") == [months(12)]
    rule = get_protocol("ofatumumab", region, on=START).rule("immunoglobulins_after_stop")
    assert "24-36 weeks" in rule.verify_note


@pytest.mark.parametrize(
    "drug", ["ocrelizumab_iv", "ocrelizumab_sc", "ofatumumab", "ublituximab", "rituximab"]
)
@pytest.mark.parametrize("region", ["US", "EU"])
def test_every_anti_cd20_checks_immunoglobulins_after_stopping(drug: str, region: str) -> None:
    items = run(drug, region, PlanEvents(START, stopped_on=months(8)))
    assert due(items, "immunoglobulins_after_stop")[0] == months(6, months(8))


@pytest.mark.parametrize(
    ("drug", "region", "days", "split"),
    [
        ("natalizumab_iv", "US", 21, 0),
        ("natalizumab_iv", "EU", 21, 0),
        ("natalizumab_sc", "EU", 21, 0),
        ("ocrelizumab_iv", "US", 140, 21),
        ("ocrelizumab_iv", "EU", 150, 21),
        ("ocrelizumab_sc", "US", 140, 0),
        ("ublituximab", "US", 150, 21),
        ("ublituximab", "EU", 150, 21),
    ],
)
def test_infusions_declare_a_minimum_interval_with_its_source(
    drug: str, region: str, days: int, split: int
) -> None:
    protocol = get_protocol(drug, region, on=START)
    assert protocol.min_dose_interval_days == days
    assert protocol.split_first_dose_days == split
    assert protocol.min_dose_interval_source
    assert protocol.min_dose_interval_verify_note


def test_ocrelizumab_minimum_dose_interval_differs_by_region() -> None:
    assert get_protocol("ocrelizumab_iv", "US", on=START).min_dose_interval_days == 140
    assert get_protocol("ocrelizumab_iv", "EU", on=START).min_dose_interval_days == 150


@pytest.mark.parametrize("region", ["US", "EU"])
def test_ofatumumab_yearly_immunoglobulins_and_counts(region: str) -> None:
    items = run("ofatumumab", region, horizon=months(24))
    assert due(items, "immunoglobulins") == [months(12), months(24)]
    assert due(items, "cbc") == [months(12), months(24)]
    assert not get_protocol("ofatumumab", region, on=START).has_doses


@pytest.mark.parametrize(
    "drug", ["ocrelizumab_iv", "ocrelizumab_sc", "ofatumumab", "ublituximab", "rituximab"]
)
def test_anti_cd20_hbsag_gate_before_first_dose(drug: str) -> None:
    protocol = get_protocol(drug, "US", on=START)
    gate = next(g for g in protocol.dose_gates if g.investigation == "hbsag")
    assert (gate.comparator, gate.before) == (Comparator.NEGATIVE, GateEvent.FIRST_DOSE)


def test_ublituximab_checks_every_24_weeks_and_us_pregnancy_test_each_infusion() -> None:
    day_15 = START + timedelta(days=14)
    items = run(
        "ublituximab", "US", PlanEvents(START, doses=(day_15, weeks(24))), horizon=months(14)
    )
    assert due(items, "cbc_before_dose") == [weeks(24), weeks(48)]
    us_gates = get_protocol("ublituximab", "US", on=START).dose_gates
    eu_gates = get_protocol("ublituximab", "EU", on=START).dose_gates
    assert any(
        g.investigation == "pregnancy_test" and g.before == GateEvent.EACH_DOSE for g in us_gates
    )
    assert not any(g.before == GateEvent.EACH_DOSE for g in eu_gates)


@pytest.mark.parametrize("region", ["US", "EU"])
def test_rituximab_two_induction_infusions_then_6_monthly_checks(region: str) -> None:
    induction = (START, START + timedelta(days=14))
    items = run("rituximab", region, PlanEvents(START, doses=induction), horizon=months(12))
    assert due(items, "cbc_before_dose") == [months(6)]
    assert get_protocol("rituximab", region, on=START).sources[0] == "CK"  # off-label


# --- alemtuzumab ---------------------------------------------------------------------------------

COURSE_1 = tuple(START + timedelta(days=i) for i in range(5))
COURSE_2_START = date(2027, 1, 11)
COURSE_2 = tuple(COURSE_2_START + timedelta(days=i) for i in range(3))


def _alemtuzumab(*, second_course: bool = False, stopped_on: date | None = None) -> PlanEvents:
    doses = COURSE_1 + (COURSE_2 if second_course else ())
    courses = (START, COURSE_2_START) if second_course else (START,)
    return PlanEvents(START, doses=doses, courses=courses, stopped_on=stopped_on)


@pytest.mark.parametrize("region", ["US", "EU"])
def test_alemtuzumab_monthly_bloods_and_3_monthly_tsh_until_48_months_after_last_infusion(
    region: str,
) -> None:
    items = run("alemtuzumab", region, _alemtuzumab(), horizon=START)
    end = months(48, COURSE_1[-1])  # 48 months after the last infusion, 2030-01-09
    monthly = [months(n) for n in range(1, 49)]  # month 48 (2030-01-05) is inside the window
    assert months(49) > end
    for key in ("cbc_monthly", "creatinine_monthly", "urinalysis_monthly"):
        assert due(items, key) == monthly, key
    assert due(items, "tsh_3_monthly") == [months(n) for n in range(3, 49, 3)]
    assert by_rule(items, "cbc_monthly")[0].investigation == "cbc"
    assert by_rule(items, "creatinine_monthly")[0].investigation == "creatinine"
    assert by_rule(items, "urinalysis_monthly")[0].investigation == "urinalysis"
    assert by_rule(items, "tsh_3_monthly")[0].investigation == "tsh"


def test_alemtuzumab_second_course_restarts_the_48_month_window() -> None:
    one = run("alemtuzumab", "US", _alemtuzumab(), horizon=START)
    two = run("alemtuzumab", "US", _alemtuzumab(second_course=True), horizon=START)
    end = months(48, COURSE_2[-1])  # 2031-01-13
    assert due(two, "cbc_monthly")[-1] <= end < months(1, due(two, "cbc_monthly")[-1])
    assert len(due(two, "cbc_monthly")) == 60
    assert due(two, "tsh_3_monthly")[-1] == months(60)
    # Every item of the first course's schedule keeps its identity.
    assert {i.key for i in one} <= {i.key for i in two}


def test_alemtuzumab_monitoring_survives_the_stop() -> None:
    stopped = months(14)
    items = run(
        "alemtuzumab", "EU", _alemtuzumab(second_course=True, stopped_on=stopped), horizon=START
    )
    assert len(due(items, "cbc_monthly")) == 60
    assert len(due(items, "lft_monthly")) == 60
    assert all(i.survives_stop for i in items)


def test_alemtuzumab_us_cd4_two_months_after_each_course() -> None:
    items = run("alemtuzumab", "US", _alemtuzumab(second_course=True), horizon=START)
    assert due(items, "cd4_after_course") == [months(2), months(2, COURSE_2_START)]
    assert due(run("alemtuzumab", "EU", _alemtuzumab(), horizon=START), "cd4_after_course") == []


def test_alemtuzumab_lft_frequency_differs_by_region() -> None:
    us = run("alemtuzumab", "US", _alemtuzumab(), horizon=START)
    eu = run("alemtuzumab", "EU", _alemtuzumab(), horizon=START)
    assert len(due(us, "lft_3_monthly")) == 16
    assert len(due(eu, "lft_monthly")) == 48


def test_alemtuzumab_pregnancy_gate_before_each_course() -> None:
    protocol = get_protocol("alemtuzumab", "EU", on=START)
    assert any(
        g.investigation == "pregnancy_test" and g.before == GateEvent.EACH_COURSE
        for g in protocol.dose_gates
    )
    assert protocol.has_courses
    assert protocol.has_doses


# --- cladribine ----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "EU"])
def test_cladribine_lymphocytes_2_and_6_months_after_each_course(region: str) -> None:
    course_2 = date(2027, 1, 4)
    items = run("cladribine", region, PlanEvents(START, courses=(START, course_2)))
    assert [(i.anchor_on, i.due_on) for i in by_rule(items, "lymphocytes_2_6m")] == [
        (START, months(2)),
        (START, months(6)),
        (course_2, months(2, course_2)),
        (course_2, months(6, course_2)),
    ]
    assert all(i.anchor == "each_course" for i in by_rule(items, "lymphocytes_2_6m"))


def test_cladribine_pre_course_2_checks_only_after_course_1() -> None:
    course_2 = date(2027, 1, 4)
    items = run("cladribine", "EU", PlanEvents(START, courses=(START, course_2)))
    [lymph] = by_rule(items, "lymphocytes_before_course_2")
    assert (lymph.due_on, lymph.window_before_days, lymph.window_after_days) == (months(12), 28, 0)
    assert due(items, "lft_before_course_2") == [months(12)]


def test_cladribine_course_gates() -> None:
    gates = get_protocol("cladribine", "US", on=START).dose_gates
    course_2 = next(g for g in gates if g.investigation == "lymphocytes" and g.from_occurrence == 2)
    assert (course_2.comparator, course_2.threshold, course_2.before) == (
        Comparator.GE,
        0.8,
        GateEvent.EACH_COURSE,
    )
    course_1 = next(g for g in gates if g.investigation == "lymphocytes" and g.to_occurrence == 1)
    assert course_1.relative_to == "lln"


@pytest.mark.parametrize("region", ["US", "EU"])
def test_cladribine_two_courses_only_with_course_2_delayed_at_most_6_months(region: str) -> None:
    protocol = get_protocol("cladribine", region, on=START)
    assert protocol.course_limit is not None
    assert protocol.course_limit.max_courses == 2
    assert protocol.course_limit.source == ("US-PI §2" if region == "US" else "EU-SmPC §4.2")
    assert "third course" in protocol.course_limit.verify_note
    delay = protocol.course_delay
    assert delay is not None
    assert (delay.course, delay.interval_months, delay.max_delay_months) == (2, 12, 6)
    assert (delay.analyte, delay.threshold, delay.window_days_before) == ("lymphocytes", 0.8, 30)
    assert delay.source == "EU-SmPC §4.2"
    assert "Recovery in time" in delay.verify_note
    # The course-2 gate speaks of course 2 only: no gate for a course the limit refuses.
    course_2 = next(g for g in protocol.dose_gates if "0.8" in g.text)
    assert (course_2.from_occurrence, course_2.to_occurrence) == (2, 2)


def test_cladribine_post_course_counts_survive_a_stop() -> None:
    items = run("cladribine", "US", PlanEvents(START, courses=(START,), stopped_on=months(1)))
    assert due(items, "lymphocytes_2_6m") == [months(2), months(6)]
    assert due(items, "lymphocytes_before_course_2") == []


# --- mitoxantrone --------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "EU"])
def test_mitoxantrone_checks_before_every_dose(region: str) -> None:
    doses = (START, months(3))
    items = run("mitoxantrone", region, PlanEvents(START, doses=doses))
    for key in ("lvef_before_dose", "cbc_before_dose", "lft_before_dose", "pregnancy_before_dose"):
        assert [(i.anchor_on, i.due_on) for i in by_rule(items, key)] == [
            (START, months(3)),
            (months(3), months(6)),
        ], key


def test_mitoxantrone_stop_starts_yearly_lvef_and_5_years_of_blood_counts() -> None:
    stopped = months(7)
    items = run(
        "mitoxantrone",
        "US",
        PlanEvents(START, doses=(START, months(3), months(6)), stopped_on=stopped),
        horizon=months(36, stopped),
    )
    assert due(items, "lvef_yearly_after_stop") == [months(n, stopped) for n in (12, 24, 36)]
    assert due(items, "cbc_leukaemia_surveillance") == [months(n, stopped) for n in range(6, 61, 6)]
    assert due(items, "lvef_before_dose")[-1] == months(6)  # the check before dose 4 is gone


def test_mitoxantrone_gates_lvef_and_neutrophils_before_each_dose() -> None:
    gates = {
        g.analyte: g
        for g in get_protocol("mitoxantrone", "US", on=START).dose_gates
        if g.analyte and g.relative_to == "absolute"
    }
    assert (gates["lvef"].threshold, gates["lvef"].before) == (50, GateEvent.EACH_DOSE)
    assert gates["neutrophils"].threshold == 1.5


@pytest.mark.parametrize("region", ["US", "EU"])
def test_mitoxantrone_doses_in_mg_m2_with_a_lifetime_cap_of_140(region: str) -> None:
    protocol = get_protocol("mitoxantrone", region, on=START)
    assert protocol.bsa_dosing is not None
    assert (protocol.bsa_dosing.usual_mg_m2, protocol.bsa_dosing.max_cumulative_mg_m2) == (12, 140)
    assert protocol.bsa_dosing.source == "US-PI §2/§5"
    assert "all the patient's mitoxantrone plans" in protocol.bsa_dosing.verify_note


def test_mitoxantrone_refuses_a_fall_in_lvef_of_10_points_from_the_second_dose() -> None:
    fall = next(
        g
        for g in get_protocol("mitoxantrone", "US", on=START).dose_gates
        if g.relative_to == "baseline"
    )
    assert (fall.analyte, fall.comparator, fall.threshold, fall.unit) == (
        "lvef",
        Comparator.GT,
        -10,
        "percentage points",
    )
    assert (fall.before, fall.from_occurrence, fall.source) == (GateEvent.EACH_DOSE, 2, "US-PI §5")
    assert fall.verify_note


# --- general -------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "EU"])
def test_general_review_and_mri_schedule(region: str) -> None:
    items = run("general", region, horizon=months(30))
    assert due(items, "neuro_review") == [months(n) for n in (6, 12, 18, 24, 30)]
    [rebaseline] = by_rule(items, "mri_rebaseline")
    assert rebaseline.due_on == months(6)
    assert rebaseline.window_opens_on <= months(3)
    assert due(items, "mri_yearly") == [months(18), months(30)]


def test_general_duties_end_with_the_plan() -> None:
    items = run("general", "US", PlanEvents(START, stopped_on=months(7)), review_interval_months=3)
    assert due(items, "neuro_review") == [months(3), months(6)]


def test_hys_law_is_critical_whatever_the_drug() -> None:
    alert = next(
        a for a in get_protocol("general", "EU", on=START).alert_rules if a.key == "hys_law"
    )
    assert alert.grade == Grade.CRITICAL
    assert [(c.analyte, c.threshold) for c in alert.also] == [("bilirubin", 2)]


def test_hys_law_reads_alt_or_ast() -> None:
    # §0.4, corrected 2026-11: the FDA DILI guidance defines Hy's law on ALT *or* AST.
    rules = {
        a.analyte: a
        for a in get_protocol("general", "US", on=START).alert_rules
        if a.key.startswith("hys_law")
    }
    assert set(rules) == {"alt", "ast"}
    assert all(r.grade == Grade.CRITICAL and r.threshold == 3 for r in rules.values())
    assert all(
        [(c.analyte, c.threshold) for c in r.also] == [("bilirubin", 2)] for r in rules.values()
    )


@pytest.mark.parametrize("region", ["US", "EU"])
def test_fingolimod_liver_rules_read_alt_and_ast_alike(region: str) -> None:
    alerts = {a.key: a for a in get_protocol("fingolimod", region, on=START).alert_rules}
    for suffix in ("3_5_uln", "ge_5_uln", "ge_3_uln_bilirubin_up"):
        alt, ast = alerts[f"alt_{suffix}"], alerts[f"ast_{suffix}"]
        assert (alt.threshold, alt.grade) == (ast.threshold, ast.grade)
    assert [c.analyte for c in alerts["ast_3_5_uln"].also] == ["ast", "bilirubin"]


@pytest.mark.parametrize("region", ["US", "EU"])
def test_mitoxantrone_lvef_findings_are_critical_once_the_drug_has_been_given(region: str) -> None:
    alerts = {a.key: a for a in get_protocol("mitoxantrone", region, on=START).alert_rules}
    low, fall = alerts["lvef_lt_50"], alerts["lvef_fall_10_points"]
    assert (low.comparator, low.threshold, low.grade) == (Comparator.LT, 50, Grade.CRITICAL)
    assert (fall.threshold, fall.relative_to, fall.unit) == (-10, "baseline", "percentage points")
    assert fall.grade == Grade.CRITICAL
    assert low.applies == fall.applies == Applies.AFTER_FIRST_DOSE


@pytest.mark.parametrize("region", ["US", "EU"])
def test_cladribine_month_2_warning_belongs_to_the_month_2_count(region: str) -> None:
    protocol = get_protocol("cladribine", region, on=START)
    warning = next(a for a in protocol.alert_rules if a.key == "lymphocytes_lt_0_5_month_2")
    assert (warning.at_rule, warning.at_occurrence) == ("lymphocytes_2_6m", 2)
    assert protocol.rule("lymphocytes_2_6m").offsets == (2, 6)


@pytest.mark.parametrize("region", ["US", "EU"])
@pytest.mark.parametrize("drug", ["dimethyl_fumarate", "diroximel_fumarate", "monomethyl_fumarate"])
def test_fumarate_low_count_before_starting_asks_for_the_cause(drug: str, region: str) -> None:
    rule = next(
        a
        for a in get_protocol(drug, region, on=START).alert_rules
        if a.key == "lymphocytes_lt_lln_baseline"
    )
    assert (rule.comparator, rule.threshold, rule.relative_to) == (Comparator.LT, 1, "lln")
    assert rule.applies == Applies.BEFORE_FIRST_DOSE
    assert rule.grade == Grade.WARNING
    assert rule.source.startswith("EU-SmPC §4.4")
    assert bool(rule.verify_note) == (region == "US")
