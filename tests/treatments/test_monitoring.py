"""The five schedules a clinic must get right, and how materialised items behave over time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient, PatientStatus
from tests.treatments.conftest import TODAY, StartPlan, due_dates, open_keys
from treatments.models import CarePlan, ItemStatus, MonitoringItem
from treatments.monitoring import services as monitoring_services
from treatments.plans import schedule
from treatments.plans import services as plan_services
from treatments.protocols import add_months
from treatments.safety import services as safety_services

pytestmark = pytest.mark.django_db


def test_teriflunomide_us_asks_for_alt_monthly_for_six_months(
    us_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    started = date(2026, 2, 10)
    plan = start_plan(patient_a, "teriflunomide", started)

    assert due_dates(plan, "alt_monthly_6m") == [add_months(started, m) for m in range(1, 7)]
    assert set(
        plan.items.filter(rule_key="alt_monthly_6m").values_list("investigation", flat=True)
    ) == {"alt"}


def test_alemtuzumab_monitoring_runs_48_months_after_the_last_course_and_survives_the_stop(
    us_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    course_1 = date(2025, 1, 13)
    plan = start_plan(patient_a, "alemtuzumab", course_1)
    course_2 = date(2026, 1, 12)
    plan_services.record_administration(
        plan=plan,
        kind="course",
        given_on=course_2,
        by=neurologist,
        override_reason="Pre-course checks done elsewhere (scheduling test)",
    )
    plan_services.stop_dmt_plan(
        plan=plan, stopped_on=date(2026, 2, 1), reason="patient_choice", by=neurologist
    )

    last = add_months(course_2, 48)
    for rule in ("cbc_monthly", "creatinine_monthly", "urinalysis_monthly"):
        dates = due_dates(plan, rule, status__in=["scheduled", "booked"])
        # Monthly from the first infusion, the last one falling within 48 months of course 2.
        assert add_months(last, -1) < dates[-1] <= last, rule
        assert len(due_dates(plan, rule)) == 59
    tsh = due_dates(plan, "tsh_3_monthly")
    assert tsh[0] == add_months(course_1, 3)
    assert add_months(last, -3) < tsh[-1] <= last
    assert all(i.survives_stop for i in plan.items.filter(rule_key="cbc_monthly"))
    assert not plan.items.filter(rule_key="cbc_monthly", status=ItemStatus.CANCELLED).exists()


def test_cladribine_checks_lymphocytes_two_and_six_months_after_each_course(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    course_1 = date(2025, 6, 2)
    plan = start_plan(patient_a, "cladribine", course_1)
    course_2 = date(2026, 6, 1)
    plan_services.record_administration(
        plan=plan,
        kind="course",
        given_on=course_2,
        by=neurologist,
        override_reason="Pre-course checks done elsewhere (scheduling test)",
    )

    assert due_dates(plan, "lymphocytes_2_6m") == [
        add_months(course_1, 2),
        add_months(course_1, 6),
        add_months(course_2, 2),
        add_months(course_2, 6),
    ]


def test_natalizumab_tests_jcv_antibodies_every_six_months(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    started = date(2026, 3, 2)
    plan = start_plan(patient_a, "natalizumab_iv", started)

    dates = due_dates(plan, "jcv_antibody")
    assert dates[:2] == [add_months(started, 6), add_months(started, 12)]
    assert all(d <= add_months(TODAY, 13) for d in dates)


def test_a_positive_jcv_result_switches_on_pml_surveillance_mri(
    eu_clinic: object,
    patient_a: Patient,
    start_plan: StartPlan,
    nurse: User,
    neurologist: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Started 19 months before the horizon: safety MRIs from month 18 fall within it.
    plan = start_plan(patient_a, "natalizumab_iv", date(2025, 11, 3))
    safety_services.update_pml_inputs(
        plan=plan, prior_immunosuppressant="no", extended_interval_dosing=False, by=neurologist
    )
    assert not plan.items.filter(rule_key__startswith="mri_jcv").exists()

    # The result is judged by the PML risk engine once it is saved (the after-commit task).
    with django_capture_on_commit_callbacks(execute=True):
        monitoring_services.record_result(
            patient=patient_a,
            investigation="jcv_antibody",
            taken_on=TODAY,
            qualitative="positive",
            index_value=Decimal("0.9"),
            by=nurse,
        )

    assert plan.items.filter(rule_key="mri_jcv_positive").exists()
    assert not plan.items.filter(rule_key="mri_pml_high_risk").exists()


def test_fingolimod_observes_the_first_dose_and_examines_the_eyes_at_three_to_four_months(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    started = date(2026, 4, 6)
    plan = start_plan(patient_a, "fingolimod", started)

    [observation] = plan.items.filter(rule_key="first_dose_observation")
    assert observation.due_on == started
    assert plan.items.filter(rule_key="ecg_first_dose", due_on=started).exists()
    [eye] = plan.items.filter(rule_key="eye_exam_3_4m")
    assert add_months(started, 3) <= eye.due_on <= add_months(started, 4)
    assert eye.window_opens_on <= add_months(started, 3)
    assert eye.window_closes_on >= add_months(started, 4) - timedelta(days=1)


def test_resynchronising_is_idempotent(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 10))
    before = list(plan.items.order_by("id").values_list("id", "status", "due_on"))

    report = schedule.sync_plan_monitoring(plan=plan, on=TODAY)
    schedule.extend_monitoring(on=TODAY)

    assert report == schedule.SyncReport(0, 0, 0)
    assert list(plan.items.order_by("id").values_list("id", "status", "due_on")) == before


def test_extend_monitoring_reaches_further_as_time_passes(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 3, 2))
    furthest = max(due_dates(plan, "jcv_antibody"))

    schedule.extend_monitoring(on=add_months(TODAY, 12))

    assert max(due_dates(plan, "jcv_antibody")) > furthest


def test_stopping_cancels_open_items_but_never_touches_done_or_waived_ones(
    us_clinic: object, patient_a: Patient, start_plan: StartPlan, nurse: User, neurologist: User
) -> None:
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 10))
    first, second, *_ = plan.items.filter(rule_key="alt_monthly_6m").order_by("due_on")
    monitoring_services.record_result(
        patient=patient_a,
        item=first,
        investigation="alt",
        taken_on=first.due_on,
        by=nurse,
        values=[monitoring_services.EnteredValue("alt", Decimal("30"), "U/L")],
    )
    monitoring_services.waive_item(item=second, reason="Done at GP, report awaited", by=nurse)

    plan_services.stop_dmt_plan(
        plan=plan, stopped_on=date(2026, 4, 1), reason="adverse_event", by=neurologist
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ItemStatus.DONE_IN_WINDOW
    assert second.status == ItemStatus.WAIVED
    later = plan.items.filter(rule_key="alt_monthly_6m", due_on__gt=date(2026, 4, 1)).exclude(
        pk=second.pk
    )
    assert later.exists()
    assert all(i.status == ItemStatus.CANCELLED for i in later)
    assert MonitoringItem.objects.filter(plan=plan).count() == plan.items.count()  # none deleted


def test_status_on_turns_an_open_item_overdue_after_its_window(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 10))
    item = plan.items.order_by("due_on").first()
    assert item is not None

    assert item.status_on(item.window_closes_on) == ItemStatus.SCHEDULED
    assert item.status_on(item.window_closes_on + timedelta(days=1)) == ItemStatus.OVERDUE
    assert MonitoringItem.objects.overdue(on=TODAY).filter(pk=item.pk).exists()
    assert not MonitoringItem.objects.due_within(on=TODAY).filter(pk=item.pk).exists()


def test_every_active_patient_gets_reviews_and_mri_even_without_a_dmt(
    eu_clinic: object, patient_a: Patient, today: date
) -> None:
    patient_a.diagnosis_on = date(2026, 3, 1)
    patient_a.save()

    schedule.extend_monitoring(on=TODAY)

    care_plan = CarePlan.objects.get(patient=patient_a)
    rules = set(care_plan.items.values_list("rule_key", flat=True))
    assert {"neuro_review", "mri_rebaseline"} <= rules
    assert care_plan.anchor_label == "diagnosis"


def test_general_duties_move_to_the_start_of_a_dmt(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    patient_a.diagnosis_on = date(2026, 3, 1)
    patient_a.save()
    schedule.extend_monitoring(on=TODAY)

    start_plan(patient_a, "ocrelizumab_iv", TODAY)

    care_plan = CarePlan.objects.get(patient=patient_a)
    assert care_plan.anchor_on == TODAY
    assert (
        care_plan.items.open()
        .filter(rule_key="mri_rebaseline", due_on=add_months(TODAY, 6))
        .exists()
    )
    assert care_plan.items.filter(status=ItemStatus.CANCELLED, anchor_on=date(2026, 3, 1)).exists()


def test_a_long_standing_patient_is_not_shown_years_of_missed_reviews(
    eu_clinic: object, patient_a: Patient, today: date
) -> None:
    patient_a.diagnosis_on = date(2012, 5, 1)
    patient_a.save()

    schedule.extend_monitoring(on=TODAY)

    assert not MonitoringItem.objects.overdue(on=TODAY).filter(patient=patient_a).exists()
    assert MonitoringItem.objects.open().filter(patient=patient_a, rule_key="neuro_review").exists()


def test_a_transferred_patients_general_duties_are_cancelled(
    eu_clinic: object, patient_a: Patient, today: date
) -> None:
    schedule.extend_monitoring(on=TODAY)
    patient_a.status = PatientStatus.TRANSFERRED
    patient_a.save()

    schedule.extend_monitoring(on=TODAY)

    assert not MonitoringItem.objects.open().filter(patient=patient_a).exists()


def test_open_items_key_survives_resync(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan
) -> None:
    plan = start_plan(patient_a, "dimethyl_fumarate", date(2026, 1, 5))
    keys = open_keys(plan)
    schedule.sync_plan_monitoring(plan=plan, on=TODAY)
    assert open_keys(plan) == keys
