"""A saved result against its plan's alert rules: every kind of threshold, persistence both ways,
Hy's law on any drug, CTCAE grades stored, idempotence and auto-resolution."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from patients.models import Patient
from tests.evaluation.conftest import Record, keys
from tests.treatments.conftest import StartPlan
from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus, ResultValue
from treatments.safety import evaluation

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)


@pytest.fixture
def on_teriflunomide(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "teriflunomide", date(2026, 3, 2))


@pytest.fixture
def on_dmf(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "dimethyl_fumarate", date(2025, 6, 2))


def test_alt_above_the_labs_uln_multiple_raises_a_graded_alert(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    # Teriflunomide: ALT > 2×ULN and ≤ 3×ULN is a WARNING (the lab's ULN is 40).
    result = record(patient_a, "alt", DAY, ("alt", "100", "0", "40"))

    alert = Alert.objects.get(patient=patient_a)
    assert alert.condition_key == f"abnormal:result:{result.pk}:rule:alt_2_3_uln"
    assert alert.kind == AlertKind.ABNORMAL_RESULT
    assert alert.grade == AlertGrade.WARNING
    assert alert.ctcae_grade == 1  # 2.5×ULN: CTCAE grade 1 (> ULN – 3×ULN)
    assert "2.5×ULN" in alert.title


def test_the_same_alt_with_a_higher_lab_uln_raises_nothing(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "alt", DAY, ("alt", "100", "0", "60"))

    assert not Alert.objects.filter(patient=patient_a).exists()


def test_a_value_without_the_labs_range_is_judged_against_the_clinic_default(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    # Flags never depend on typing a range: ALT 400 is 11×ULN of the clinic default (35 U/L
    # for women), so teriflunomide's > 3×ULN rule asks for its confirming repeat.
    result = record(patient_a, "alt", DAY, ("alt", "400", None, None))

    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.ABNORMAL_RESULT)
    assert alert.condition_key == f"abnormal:result:{result.pk}:rule:alt_gt_3_uln:unconfirmed"
    assert "11.4×ULN" in alert.title


def test_a_value_without_any_reference_range_is_not_judged_against_uln() -> None:
    # No lab range and no clinic default (e.g. a child's value of an adult-only range): the
    # ×ULN rule cannot be told, and is never guessed.
    from treatments.protocols import get_protocol
    from treatments.safety.rules import History, Reading, rule_met

    rule = next(
        a
        for a in get_protocol("teriflunomide", "EU", on=DAY).alert_rules
        if a.key == "alt_gt_3_uln"
    )
    reading = Reading("alt", DAY, 1, value=Decimal("400"), unit="U/L")

    assert rule_met(rule, reading, history=History([reading]), first_dose_on=None) is None


def test_an_absolute_threshold_raises_its_grade(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    result = record(patient_a, "cbc", DAY, ("neutrophils", "0.8", "1.8", "7.5"))

    alert = Alert.objects.get(condition_key=f"abnormal:result:{result.pk}:rule:neutrophils_lt_1")
    assert alert.grade == AlertGrade.CRITICAL
    assert alert.ctcae_grade == 3  # < 1.0 – 0.5


def test_a_threshold_relative_to_the_labs_lln(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "ocrelizumab_iv", date(2026, 1, 5))

    result = record(patient_a, "igg", DAY, ("igg", "5.5", "7.0", "16.0"))

    alert = Alert.objects.get(condition_key=f"abnormal:result:{result.pk}:rule:igg_lt_lln")
    assert alert.grade == AlertGrade.WARNING


def test_a_threshold_relative_to_the_baseline_before_the_first_dose(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    # Baseline creatinine 70 taken before alemtuzumab; 1.3×baseline is 91.
    record(patient_a, "creatinine", date(2025, 12, 1), ("creatinine", "70", "45", "110"))
    start_plan(patient_a, "alemtuzumab", date(2026, 1, 5))

    record(patient_a, "creatinine", date(2026, 5, 1), ("creatinine", "85", "45", "110"))
    assert not Alert.objects.filter(condition_key__contains="creatinine_rise").exists()

    result = record(patient_a, "creatinine", DAY, ("creatinine", "95", "45", "110"))
    alert = Alert.objects.get(condition_key=f"abnormal:result:{result.pk}:rule:creatinine_rise")
    assert alert.grade == AlertGrade.CRITICAL
    assert "1.3×baseline" in alert.title


def test_no_baseline_means_the_baseline_rule_is_not_guessed(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "alemtuzumab", date(2026, 1, 5))

    record(patient_a, "creatinine", DAY, ("creatinine", "105", "45", "110"))

    assert not Alert.objects.filter(condition_key__contains="creatinine_rise").exists()


def test_a_baseline_is_stored_into_the_ctcae_grade(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    # Creatinine 2×baseline but within the lab's range: CTCAE grade 2 (> 1.5 – 3×baseline).
    record(patient_a, "creatinine", date(2025, 12, 1), ("creatinine", "50", "45", "110"))
    start_plan(patient_a, "alemtuzumab", date(2026, 1, 5))

    result = record(patient_a, "creatinine", DAY, ("creatinine", "100", "45", "110"))

    assert ResultValue.objects.get(result=result).ctcae_grade == 2


def test_ctcae_grade_is_stored_on_the_value_and_the_alert(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    result = record(patient_a, "cbc", DAY, ("lymphocytes", "0.15", "1.0", "4.0"))

    assert ResultValue.objects.get(result=result, analyte="lymphocytes").ctcae_grade == 4
    alert = Alert.objects.get(condition_key__endswith="rule:lymphocytes_lt_0_2")
    assert alert.ctcae_grade == 4


# --- persistence -------------------------------------------------------------------------------


def test_lymphopenia_for_more_than_six_months_on_dmf_is_critical(
    on_dmf: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", date(2025, 11, 20), ("lymphocytes", "0.45", "1.0", "4.0"))
    record(patient_a, "cbc", date(2026, 2, 20), ("lymphocytes", "0.40", "1.0", "4.0"))

    record(patient_a, "cbc", date(2026, 6, 1), ("lymphocytes", "0.42", "1.0", "4.0"))

    alert = Alert.objects.get(condition_key__contains="rule:lymphocytes_lt_0_5_6m")
    assert alert.condition_key == (
        f"abnormal:patient:{patient_a.pk}:rule:lymphocytes_lt_0_5_6m:since:2025-11-20"
    )
    assert alert.grade == AlertGrade.CRITICAL


def test_lymphopenia_interrupted_by_a_normal_count_does_not_persist(
    on_dmf: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", date(2025, 11, 20), ("lymphocytes", "0.45", "1.0", "4.0"))
    record(patient_a, "cbc", date(2026, 2, 20), ("lymphocytes", "0.9", "1.0", "4.0"))

    record(patient_a, "cbc", date(2026, 6, 1), ("lymphocytes", "0.42", "1.0", "4.0"))

    assert not Alert.objects.filter(condition_key__contains="rule:lymphocytes_lt_0_5_6m").exists()
    # Each low count still raises its own warning.
    assert Alert.objects.filter(condition_key__endswith="rule:lymphocytes_lt_0_5").exists()


def test_a_persisting_episode_raises_one_alert_however_many_low_counts_follow(
    on_dmf: Any, patient_a: Patient, record: Record
) -> None:
    for day in (date(2025, 11, 20), date(2026, 3, 1), date(2026, 6, 1), date(2026, 6, 15)):
        record(patient_a, "cbc", day, ("lymphocytes", "0.4", "1.0", "4.0"))

    assert Alert.objects.filter(condition_key__contains="rule:lymphocytes_lt_0_5_6m").count() == 1


def test_an_unconfirmed_alt_above_3x_uln_asks_for_a_repeat(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    result = record(patient_a, "alt", DAY, ("alt", "160", "0", "40"))

    alert = Alert.objects.get(patient=patient_a)
    assert alert.condition_key == f"abnormal:result:{result.pk}:rule:alt_gt_3_uln:unconfirmed"
    assert alert.grade == AlertGrade.WARNING
    assert "repeat to confirm" in alert.title
    assert alert.owner == patient_a.nurse  # the nurse books the repeat


def test_alt_above_3x_uln_confirmed_on_repeat_is_critical_and_supersedes_the_warning(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "alt", DAY - timedelta(days=5), ("alt", "160", "0", "40"))

    record(patient_a, "alt", DAY, ("alt", "150", "0", "40"))

    confirmed = Alert.objects.get(condition_key__contains="alt_gt_3_uln:since:")
    assert confirmed.grade == AlertGrade.CRITICAL
    assert confirmed.owner == patient_a.neurologist
    warning = Alert.objects.get(condition_key__endswith=":unconfirmed")
    assert warning.status == AlertStatus.RESOLVED
    assert "Confirmed by the repeat" in warning.resolution_note


# --- Hy's law ----------------------------------------------------------------------------------


def test_hys_law_on_a_drug_without_a_liver_rule_is_critical(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "ocrelizumab_iv", date(2026, 1, 5))

    record(patient_a, "lft", DAY, ("alt", "130", "0", "40"), ("bilirubin", "50", "0", "21"))

    alert = Alert.objects.get(condition_key=f"hys_law:patient:{patient_a.pk}:on:2026-06-15")
    assert alert.grade == AlertGrade.CRITICAL
    assert alert.owner == patient_a.neurologist


def test_hys_law_with_no_plan_at_all(patient_a: Patient, record: Record, today: date) -> None:
    record(patient_a, "lft", DAY, ("alt", "130", "0", "40"), ("bilirubin", "50", "0", "21"))

    assert keys(patient_a) == {f"hys_law:patient:{patient_a.pk}:on:2026-06-15"}


def test_hys_law_from_two_results_of_the_same_day_raises_one_alert(
    patient_a: Patient, record: Record, today: date
) -> None:
    record(patient_a, "alt", DAY, ("alt", "130", "0", "40"))
    record(patient_a, "bilirubin", DAY, ("bilirubin", "50", "0", "21"))
    record(patient_a, "alt", DAY, ("alt", "140", "0", "40"))

    assert Alert.objects.filter(condition_key__startswith="hys_law:").count() == 1


def test_alt_high_with_normal_bilirubin_is_not_hys_law(
    patient_a: Patient, record: Record, today: date
) -> None:
    record(patient_a, "lft", DAY, ("alt", "130", "0", "40"), ("bilirubin", "30", "0", "21"))

    assert not Alert.objects.filter(condition_key__startswith="hys_law:").exists()


# --- idempotence and resolution ----------------------------------------------------------------


def test_evaluating_the_same_result_twice_raises_nothing_new(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    result = record(patient_a, "cbc", DAY, ("neutrophils", "0.8", "1.8", "7.5"))

    again = evaluation.evaluate_result(result_id=result.pk)

    assert again == 0
    assert Alert.objects.filter(patient=patient_a).count() == 1


def test_a_normal_repeat_resolves_the_abnormal_alert_with_a_note(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", DAY - timedelta(days=10), ("neutrophils", "0.8", "1.8", "7.5"))

    record(patient_a, "cbc", DAY, ("neutrophils", "2.1", "1.8", "7.5"))

    alert = Alert.objects.get(patient=patient_a)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolved_automatically
    assert "no longer Neutrophils (absolute) < 1 ×10⁹/L" in alert.resolution_note


def test_a_repeat_still_beyond_the_threshold_resolves_nothing(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", DAY - timedelta(days=10), ("neutrophils", "0.8", "1.8", "7.5"))

    record(patient_a, "cbc", DAY, ("neutrophils", "0.9", "1.8", "7.5"))

    assert Alert.objects.filter(patient=patient_a, status=AlertStatus.OPEN).count() == 2


def test_an_older_normal_result_entered_late_does_not_resolve_a_newer_alert(
    on_teriflunomide: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", DAY, ("neutrophils", "0.8", "1.8", "7.5"))

    record(patient_a, "cbc", DAY - timedelta(days=10), ("neutrophils", "2.1", "1.8", "7.5"))

    assert Alert.objects.get(patient=patient_a).status == AlertStatus.OPEN


def test_saving_a_result_queues_its_evaluation_after_commit(
    on_teriflunomide: Any,
    patient_a: Patient,
    record: Record,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record(patient_a, "cbc", DAY, ("neutrophils", "0.8", "1.8", "7.5"), evaluate=False)

    assert Alert.objects.filter(patient=patient_a, grade=AlertGrade.CRITICAL).count() == 1


def test_another_teams_results_do_not_leak_into_a_patients_evaluation(
    on_teriflunomide: Any, patient_a: Patient, patient_b: Patient, record: Record
) -> None:
    record(patient_b, "lft", DAY, ("bilirubin", "50", "0", "21"))

    record(patient_a, "alt", DAY, ("alt", "130", "0", "40"))

    assert not Alert.objects.filter(condition_key__startswith="hys_law:").exists()
