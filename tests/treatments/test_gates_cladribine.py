"""Cladribine at the point of action: two courses in all, and course 2 at most 6 months late
without lymphocyte recovery (§3.16)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import (
    OVERRIDE_REASON,
    StartPlan,
    before_a_cladribine_course,
    record_values,
    unmet_keys,
)
from treatments.models import DmtPlan, GateOverride
from treatments.plans import gates
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db


# --- cladribine: two courses, and course 2 delayed by at most 6 months ---------------------------

COURSE_1 = date(2024, 6, 17)
COURSE_2 = date(2025, 6, 16)
THIRD = date(2026, 6, 15)


@pytest.fixture
def two_courses(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User) -> DmtPlan:
    plan = start_plan(patient_a, "cladribine", COURSE_1)
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=2), nurse)
    plan_services.record_administration(plan=plan, kind="course", given_on=COURSE_2, by=nurse)
    return plan


def test_cladribine_third_course_is_refused_even_with_lymphocytes_checked(
    two_courses: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    before_a_cladribine_course(patient_a, THIRD - timedelta(days=2), nurse, lymphocytes="0.4")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=two_courses, kind="course", given_on=THIRD, by=nurse
        )

    # The course limit refuses it; no gate speaks of lymphocytes "before course 3".
    assert unmet_keys(refused) == {"course_limit"}
    [limit] = refused.value.unmet
    assert limit.found == "2 courses already given (17 Jun 2024, 16 Jun 2025)"
    assert limit.needed == "at most 2 courses in all"
    assert limit.source == "EU-SmPC §4.2"
    assert two_courses.administrations.count() == 2


def test_cladribine_third_course_on_a_new_plan_is_refused_at_the_start(
    two_courses: DmtPlan, patient_a: Patient, neurologist: User, today: date
) -> None:
    plan_services.stop_dmt_plan(
        plan=two_courses, stopped_on=date(2026, 1, 5), reason="patient_choice", by=neurologist
    )
    again = plan_services.plan_dmt(patient=patient_a, drug_key="cladribine", by=neurologist)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=again, started_on=THIRD, by=neurologist)

    assert "course_limit" in unmet_keys(refused)


def test_a_neurologist_may_give_a_third_course_with_a_reason(
    two_courses: DmtPlan, patient_a: Patient, nurse: User, neurologist: User, today: date
) -> None:
    before_a_cladribine_course(patient_a, THIRD - timedelta(days=2), nurse)

    given = plan_services.record_administration(
        plan=two_courses,
        kind="course",
        given_on=THIRD,
        by=neurologist,
        override_reason=OVERRIDE_REASON,
    )

    [override] = GateOverride.objects.filter(administration=given)
    assert override.gate_key == "course_limit"
    assert override.reason == OVERRIDE_REASON


@pytest.fixture
def after_course_1(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> DmtPlan:
    return start_plan(patient_a, "cladribine", COURSE_1)


def test_cladribine_course_2_more_than_6_months_late_without_recovery_is_refused(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    # Planned for 17 Jun 2025; lymphocytes stayed low until the delay ran out on 17 Dec 2025.
    record_values(patient_a, "cbc", date(2025, 6, 10), nurse, ("lymphocytes", "0.6", "1.0", "4.0"))
    record_values(patient_a, "cbc", date(2025, 12, 1), nurse, ("lymphocytes", "0.7", "1.0", "4.0"))
    late = date(2026, 1, 12)
    before_a_cladribine_course(patient_a, late - timedelta(days=2), nurse, lymphocytes="0.9")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=after_course_1, kind="course", given_on=late, by=nurse
        )

    assert unmet_keys(refused) == {"course_delay"}
    [delay] = refused.value.unmet
    assert "no further cladribine" in delay.rule
    assert "planned for 17 Jun 2025" in delay.found
    assert delay.needed.startswith("recovery by 17 Dec 2025")


def test_cladribine_course_2_late_for_another_reason_after_recovery_in_time_is_allowed(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    record_values(patient_a, "cbc", date(2025, 6, 1), nurse, ("lymphocytes", "0.9", "1.0", "4.0"))
    late = date(2026, 1, 12)
    before_a_cladribine_course(patient_a, late - timedelta(days=2), nurse, lymphocytes="0.9")

    given = plan_services.record_administration(
        plan=after_course_1, kind="course", given_on=late, by=nurse
    )

    assert given.given_on == late
