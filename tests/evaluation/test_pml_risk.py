"""Natalizumab PML risk: the category from each input, stored with its history, and a change of
category alerted once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.evaluation.conftest import Record
from tests.factories import patient_panel
from tests.treatments.conftest import StartPlan
from treatments.models import Alert, AlertGrade, AlertKind, PmlCategoryChange, PmlProfile
from treatments.safety import evaluation
from treatments.safety import services as safety_services

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)


@pytest.fixture
def on_natalizumab(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    """Started 1 July 2024: 23 whole months on 15 June 2026."""
    return start_plan(patient_a, "natalizumab_iv", date(2024, 7, 1))


def jcv(record: Record, patient: Patient, on: date, status: str, index: str | None) -> Any:
    return record(
        patient,
        "jcv_antibody",
        on,
        qualitative=status,
        index_value=Decimal(index) if index else None,
    )


def profile(plan: Any) -> PmlProfile:
    return PmlProfile.objects.get(plan=plan)


def pml_alerts(patient: Patient) -> list[Alert]:
    return list(Alert.objects.filter(patient=patient, kind=AlertKind.PML_RISK))


def test_a_negative_jcv_is_the_lowest_category_with_yearly_mri_and_no_alert(
    on_natalizumab: Any, patient_a: Patient, record: Record
) -> None:
    jcv(record, patient_a, DAY, "negative", "0.1")

    assert profile(on_natalizumab).category == "lowest"
    assert profile(on_natalizumab).mri_interval_months == 12
    # The first category, and INFO: recorded, not alerted.
    assert pml_alerts(patient_a) == []
    assert PmlCategoryChange.objects.get(plan=on_natalizumab).reason == "JCV result of 15 Jun 2026"


def test_seroconversion_changes_the_category_and_alerts_once(
    on_natalizumab: Any, patient_a: Patient, record: Record
) -> None:
    jcv(record, patient_a, date(2025, 12, 1), "negative", "0.1")

    result = jcv(record, patient_a, DAY, "positive", "0.7")
    evaluation.evaluate_result(result_id=result.pk)  # a retry changes nothing

    assert profile(on_natalizumab).category == "first_24_months"
    [alert] = pml_alerts(patient_a)
    assert alert.condition_key == f"pml:plan:{on_natalizumab.pk}:category:first_24_months"
    assert PmlCategoryChange.objects.filter(plan=on_natalizumab).count() == 2


def test_exposure_crossing_24_months_moves_the_category_in_the_daily_run(
    on_natalizumab: Any, patient_a: Patient, record: Record, neurologist: User
) -> None:
    jcv(record, patient_a, DAY, "positive", "1.2")
    safety_services.update_pml_inputs(
        plan=on_natalizumab,
        prior_immunosuppressant="no",
        extended_interval_dosing=False,
        by=neurologist,
    )
    assert profile(on_natalizumab).category == "first_24_months"

    # 24 months is not yet "over 24 months"; 25 is.
    assert safety_services.reassess_all_pml_risk(on=date(2026, 7, 2)) == 0
    changed = safety_services.reassess_all_pml_risk(on=date(2026, 8, 2))
    again = safety_services.reassess_all_pml_risk(on=date(2026, 8, 3))

    assert (changed, again) == (1, 0)
    assert profile(on_natalizumab).category == "intermediate"
    assert [a.grade for a in pml_alerts(patient_a)].count(AlertGrade.WARNING) >= 1
    assert len([a for a in pml_alerts(patient_a) if "intermediate" in a.condition_key]) == 1


def test_a_high_index_after_24_months_is_high_risk_and_critical(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2023, 1, 10))

    jcv(record, patient_a, DAY, "positive", "1.8")

    assert profile(plan).category == "high"
    assert profile(plan).mri_interval_months == 3
    [alert] = pml_alerts(patient_a)
    assert alert.grade == AlertGrade.CRITICAL
    assert alert.owner == patient_a.neurologist


def test_prior_immunosuppressant_makes_a_low_index_high_risk_after_24_months(
    eu_clinic: Any,
    patient_a: Patient,
    start_plan: StartPlan,
    record: Record,
    neurologist: User,
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2023, 1, 10))
    jcv(record, patient_a, DAY, "positive", "0.6")
    # Not recorded: whether this is low or high risk depends on it.
    assert profile(plan).category == "unknown"
    safety_services.update_pml_inputs(
        plan=plan, prior_immunosuppressant="no", extended_interval_dosing=False, by=neurologist
    )
    assert profile(plan).category == "low"

    safety_services.update_pml_inputs(
        plan=plan, prior_immunosuppressant="yes", extended_interval_dosing=False, by=neurologist
    )

    assert profile(plan).category == "high"
    latest = PmlCategoryChange.objects.filter(plan=plan).first()
    assert latest is not None
    assert latest.previous_category == "low"
    assert latest.reason == "Prior immunosuppressant recorded as yes"


def test_a_jcv_result_for_a_patient_not_on_natalizumab_records_no_pml_category(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record
) -> None:
    start_plan(patient_a, "ocrelizumab_iv", date(2026, 1, 5))

    jcv(record, patient_a, DAY, "positive", "1.8")

    assert not PmlProfile.objects.exists()
    assert pml_alerts(patient_a) == []


def test_pml_inputs_are_refused_for_another_drug(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    plan = start_plan(patient_a, "ocrelizumab_iv", date(2026, 1, 5))

    with pytest.raises(safety_services.SafetyError):
        safety_services.update_pml_inputs(
            plan=plan, prior_immunosuppressant="yes", extended_interval_dosing=False, by=neurologist
        )


def pml_url(patient: Patient) -> str:
    from django.urls import reverse

    return reverse("safety:pml", kwargs={"external_id": patient.external_id})


def test_the_pml_page_shows_the_category_with_its_mri_interval_and_history(
    on_natalizumab: Any, patient_a: Patient, record: Record, signed_in: Any, neurologist: User
) -> None:
    jcv(record, patient_a, DAY, "negative", "0.1")

    body = signed_in(neurologist).get(pml_url(patient_a)).content.decode()

    assert "Lowest risk: anti-JCV antibody negative" in body
    assert "Every 12 months" in body
    assert "JCV result of 15 Jun 2026" in body


def test_a_clinician_records_prior_immunosuppressant_on_the_pml_page(
    eu_clinic: Any,
    patient_a: Patient,
    start_plan: StartPlan,
    record: Record,
    signed_in: Any,
    nurse: User,
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2023, 1, 10))
    jcv(record, patient_a, DAY, "positive", "0.6")

    response = signed_in(nurse).post(pml_url(patient_a), {"prior_immunosuppressant": "yes"})

    assert response.status_code == 302
    assert profile(plan).prior_immunosuppressant == "yes"
    assert profile(plan).category == "high"


def test_a_bad_pml_input_is_shown_next_to_the_field(
    on_natalizumab: Any, patient_a: Patient, signed_in: Any, nurse: User
) -> None:
    response = signed_in(nurse).post(pml_url(patient_a), {"prior_immunosuppressant": "maybe"})

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_the_patient_panel_shows_the_pml_category_and_mri_interval(
    on_natalizumab: Any, patient_a: Patient, record: Record, signed_in: Any, neurologist: User
) -> None:
    jcv(record, patient_a, DAY, "negative", "0.1")

    body = patient_panel(signed_in(neurologist), patient_a, "safety-panel")

    assert "Lowest risk: anti-JCV antibody negative" in body
    assert "Surveillance MRI every 12 months." in body


# --- the category sets the MRI the worklist schedules ------------------------------------------


def _mri_due(plan: Any, rule_key: str) -> list[date]:
    return list(
        plan.items.filter(rule_key=rule_key, status__in=["scheduled", "booked"])
        .order_by("due_on")
        .values_list("due_on", flat=True)
    )


def _jcv_positive_at_a_low_index(plan: Any, patient: Patient, record: Record, by: User) -> None:
    safety_services.update_pml_inputs(
        plan=plan, prior_immunosuppressant="no", extended_interval_dosing=False, by=by
    )
    jcv(record, patient, DAY, "positive", "0.6")


def _prior_immunosuppressant_comes_to_light(plan: Any, by: User) -> None:
    safety_services.update_pml_inputs(
        plan=plan, prior_immunosuppressant="yes", extended_interval_dosing=False, by=by
    )


def test_prior_immunosuppressant_with_a_positive_jcv_schedules_3_monthly_mri_at_any_index(
    on_natalizumab: Any, patient_a: Patient, record: Record, neurologist: User
) -> None:
    _jcv_positive_at_a_low_index(on_natalizumab, patient_a, record, neurologist)
    # Low index, no prior immunosuppressant: MRI every 6 months from month 18.
    assert _mri_due(on_natalizumab, "mri_jcv_positive")[:2] == [date(2026, 7, 1), date(2027, 1, 1)]
    assert _mri_due(on_natalizumab, "mri_pml_high_risk") == []

    # Mitoxantrone before natalizumab comes to light: high risk whatever the index.
    _prior_immunosuppressant_comes_to_light(on_natalizumab, neurologist)

    assert profile(on_natalizumab).schedule_condition == "pml_high_risk"
    assert _mri_due(on_natalizumab, "mri_pml_high_risk")[:3] == [
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]
    # The 6-monthly rows are cancelled, not left beside the 3-monthly ones.
    assert _mri_due(on_natalizumab, "mri_jcv_positive") == []
    cancelled = on_natalizumab.items.filter(rule_key="mri_jcv_positive", status="cancelled")
    assert cancelled.exists()


def test_a_surveillance_change_that_nothing_re_synchronises_is_refused_whole(
    on_natalizumab: Any, patient_a: Patient, record: Record, neurologist: User
) -> None:
    """Safety tells the plan's schedule through a signal (it cannot import plans): were the
    receiver ever not connected, the change fails loudly instead of leaving the old MRI."""
    from treatments.plans import schedule
    from treatments.safety.signals import pml_surveillance_changed

    _jcv_positive_at_a_low_index(on_natalizumab, patient_a, record, neurologist)
    uid = "plans.resync_on_pml_surveillance"
    assert pml_surveillance_changed.disconnect(dispatch_uid=uid)
    try:
        with pytest.raises(RuntimeError, match="re-synchronised"):
            _prior_immunosuppressant_comes_to_light(on_natalizumab, neurologist)
    finally:
        pml_surveillance_changed.connect(schedule._resync_on_pml_surveillance, dispatch_uid=uid)

    assert profile(on_natalizumab).schedule_condition == "jcv_positive"
    assert _mri_due(on_natalizumab, "mri_pml_high_risk") == []


def test_a_high_index_schedules_3_monthly_mri_without_any_plan_condition(
    on_natalizumab: Any, patient_a: Patient, record: Record, neurologist: User
) -> None:
    safety_services.update_pml_inputs(
        plan=on_natalizumab,
        prior_immunosuppressant="no",
        extended_interval_dosing=False,
        by=neurologist,
    )

    jcv(record, patient_a, DAY, "positive", "1.8")

    on_natalizumab.refresh_from_db()
    assert on_natalizumab.conditions == []  # nothing typed on the plan: the engine decided
    assert _mri_due(on_natalizumab, "mri_pml_high_risk")[0] == date(2026, 7, 1)


def test_a_negative_jcv_leaves_mri_to_the_yearly_general_duty(
    on_natalizumab: Any, patient_a: Patient, record: Record
) -> None:
    jcv(record, patient_a, DAY, "negative", "0.1")

    assert profile(on_natalizumab).schedule_condition == ""
    assert not on_natalizumab.items.filter(rule_key__in=["mri_jcv_positive", "mri_pml_high_risk"])
