"""Dose gates: a result that fails the gate for the next dose or course raises a dose-gate
alert, the plan shows the gate's status, and a later passing result clears it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.evaluation.conftest import Record
from tests.treatments.conftest import StartPlan
from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus
from treatments.plans import services as plan_services
from treatments.safety.gates import GateState, gate_status

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)


@pytest.fixture
def cladribine_after_course_1(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "cladribine", date(2025, 6, 20))


def _lymphocyte_gate(plan: Any) -> Any:
    return next(c for c in gate_status(plan) if c.gate.analyte is None and "0.8" in c.gate.text)


def test_cladribine_course_2_with_lymphocytes_below_0_8_fails_its_gate(
    cladribine_after_course_1: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", date(2026, 6, 1), ("lymphocytes", "0.6", "1.0", "4.0"))

    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.DOSE_GATE)
    # The plan is active: a course could be given, and the label says not to (GATE → CRITICAL).
    assert alert.grade == AlertGrade.CRITICAL
    assert "before course 2" in alert.title
    check = _lymphocyte_gate(cladribine_after_course_1)
    assert check.state == GateState.NOT_MET
    assert check.event_label == "before course 2"


def test_cladribine_course_2_gate_is_met_by_lymphocytes_of_0_8_or_more(
    cladribine_after_course_1: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", date(2026, 6, 1), ("lymphocytes", "0.9", "1.0", "4.0"))

    assert not Alert.objects.filter(patient=patient_a, kind=AlertKind.DOSE_GATE).exists()
    assert _lymphocyte_gate(cladribine_after_course_1).state == GateState.MET


def test_a_passing_result_clears_the_failed_gate(
    cladribine_after_course_1: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "cbc", date(2026, 6, 1), ("lymphocytes", "0.6", "1.0", "4.0"))

    record(patient_a, "cbc", date(2026, 6, 12), ("lymphocytes", "0.85", "1.0", "4.0"))

    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.DOSE_GATE)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolution_note.startswith("Gate met by Lymphocytes")


def test_a_check_older_than_the_gates_window_does_not_count(
    cladribine_after_course_1: Any, patient_a: Patient, record: Record
) -> None:
    # The course-2 gate wants lymphocytes within 30 days of the course.
    record(patient_a, "cbc", date(2026, 4, 1), ("lymphocytes", "0.9", "1.0", "4.0"))

    assert _lymphocyte_gate(cladribine_after_course_1).state == GateState.MISSING


def test_mitoxantrone_lvef_below_50_before_the_first_dose_is_a_warning_on_a_planned_plan(
    eu_clinic: Any, patient_a: Patient, neurologist: User, record: Record, today: date
) -> None:
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="mitoxantrone", by=neurologist, planned_on=DAY
    )

    record(patient_a, "echo_lvef", DAY, ("lvef", "45", None, None))

    alert = Alert.objects.get(patient=patient_a, kind=AlertKind.DOSE_GATE)
    # Nothing has been given yet and the start is blocked on the plan: WARNING.
    assert alert.grade == AlertGrade.WARNING
    lvef = next(c for c in gate_status(plan) if c.gate.analyte == "lvef")
    assert lvef.state == GateState.NOT_MET
    assert lvef.event_label == "before dose 1"


def test_mitoxantrone_neutrophils_gate_passes_at_1_5(
    eu_clinic: Any, patient_a: Patient, neurologist: User, record: Record, today: date
) -> None:
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="mitoxantrone", by=neurologist, planned_on=DAY
    )

    record(patient_a, "cbc", DAY, ("neutrophils", "1.5", "1.8", "7.5"))

    neutrophils = next(c for c in gate_status(plan) if c.gate.analyte == "neutrophils")
    assert neutrophils.state == GateState.MET
    assert not Alert.objects.filter(kind=AlertKind.DOSE_GATE).exists()


def test_evaluating_a_failed_gate_twice_raises_one_alert(
    cladribine_after_course_1: Any, patient_a: Patient, record: Record
) -> None:
    from treatments.safety import evaluation

    result = record(patient_a, "cbc", date(2026, 6, 1), ("lymphocytes", "0.6", "1.0", "4.0"))
    evaluation.evaluate_result(result_id=result.pk)

    assert Alert.objects.filter(patient=patient_a, kind=AlertKind.DOSE_GATE).count() == 1


def test_after_the_second_cladribine_course_no_gate_alert_names_a_third(
    cladribine_after_course_1: Any, patient_a: Patient, record: Record, neurologist: User
) -> None:
    plan_services.record_administration(
        plan=cladribine_after_course_1,
        kind="course",
        given_on=date(2026, 6, 10),
        by=neurologist,
        override_reason="Pre-course checks on paper (test)",
    )

    record(patient_a, "cbc", DAY, ("lymphocytes", "0.4", "1.0", "4.0"))

    # Two courses are all there is: no course gate is left to fail, so no alert speaks of
    # "course 3" (the low count itself is graded by the alert rules).
    assert not [c for c in gate_status(cladribine_after_course_1) if c.gate.before == "each_course"]
    titles = list(
        Alert.objects.filter(patient=patient_a, kind=AlertKind.DOSE_GATE).values_list(
            "title", flat=True
        )
    )
    assert not [t for t in titles if "course 3" in t]


@pytest.fixture
def mitoxantrone_active(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record, today: date
) -> Any:
    record(patient_a, "echo_lvef", date(2026, 3, 2), ("lvef", "62", None, None))
    return start_plan(patient_a, "mitoxantrone", date(2026, 3, 2))


def test_mitoxantrone_lvef_45_on_an_active_plan_raises_a_critical_gate_alert(
    mitoxantrone_active: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "echo_lvef", DAY, ("lvef", "45", None, None))

    alerts = {a.title: a.grade for a in Alert.objects.filter(patient=patient_a, kind="dose_gate")}
    # Below 50 %, and 17 points below the baseline of 62 %: both gates fail, each critical.
    assert alerts == {
        "Mitoxantrone before dose 2: LVEF ≥ 50% before every dose": AlertGrade.CRITICAL,
        "Mitoxantrone before dose 2: No fall in LVEF of 10 percentage points or more from "
        "baseline before every dose": AlertGrade.CRITICAL,
    }


def test_mitoxantrone_lvef_fall_of_10_points_raises_a_critical_gate_alert(
    mitoxantrone_active: Any, patient_a: Patient, record: Record
) -> None:
    record(patient_a, "echo_lvef", DAY, ("lvef", "52", None, None))

    [alert] = Alert.objects.filter(patient=patient_a, kind=AlertKind.DOSE_GATE)
    assert alert.grade == AlertGrade.CRITICAL
    assert "No fall in LVEF of 10 percentage points" in alert.title


def test_fingolimod_baseline_qtc_of_510_ms_raises_one_gate_alert_not_overnight_monitoring(
    eu_clinic: Any, patient_a: Patient, neurologist: User, record: Record, today: date
) -> None:
    plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)

    record(patient_a, "ecg", DAY, ("qtc", "510", None, None))

    [alert] = Alert.objects.filter(patient=patient_a)
    assert alert.kind == AlertKind.DOSE_GATE
    assert alert.title == (
        "Fingolimod before the first dose: Baseline QTc below 500 ms (QTc ≥ 500 ms "
        "contraindicates fingolimod)"
    )
    assert "overnight" not in f"{alert.title} {alert.detail} {alert.action}".lower()
    assert alert.source == "US-PI §4; EU-SmPC §4.3"


def test_teriflunomide_baseline_alt_above_2_uln_raises_the_start_gate_alert(
    eu_clinic: Any, patient_a: Patient, neurologist: User, record: Record, today: date
) -> None:
    plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)

    record(patient_a, "lft", DAY, ("alt", "90", "0", "40"))

    gate_alert = Alert.objects.get(patient=patient_a, kind=AlertKind.DOSE_GATE)
    assert gate_alert.title == (
        "Teriflunomide before the first dose: Baseline ALT at most 2 × ULN (not normally "
        "started above it)"
    )
    assert gate_alert.source == "US-PI §5.1"
