"""Infusions with a minimum interval: an earlier one is refused unless a neurologist overrides;
the day-15 half of a split first dose is not early."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import (
    OVERRIDE_REASON,
    TODAY,
    StartPlan,
    unmet_keys,
)
from treatments.models import ClinicSettings, GateOverride
from treatments.plans import gates
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db


# --- infusions with a minimum interval ---------------------------------------------------------------


def test_natalizumab_infusion_earlier_than_21_days_is_refused(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 5, 28))

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(plan=plan, kind="dose", given_on=TODAY, by=nurse)

    [early] = refused.value.unmet
    assert early.key == "min_dose_interval"
    assert early.found == "18 days since the dose of 28 May 2026"
    assert early.needed == "at least 21 days (not before 18 Jun 2026)"
    assert early.source == "EU-SmPC §4.2 (every 4 weeks); CK"
    assert early.verify_note


def test_natalizumab_infusion_after_4_weeks_is_given(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 5, 18))

    given = plan_services.record_administration(plan=plan, kind="dose", given_on=TODAY, by=nurse)

    assert given.given_on == TODAY


@pytest.mark.parametrize(
    ("drug", "region", "minimum"),
    [
        ("ocrelizumab_iv", "US", 140),
        ("ocrelizumab_iv", "EU", 150),
        ("ocrelizumab_sc", "EU", 150),
        ("ublituximab", "US", 150),
    ],
)
def test_anti_cd20_infusion_before_the_minimum_interval_is_refused_unless_overridden(
    patient_a: Patient,
    start_plan: StartPlan,
    nurse: User,
    neurologist: User,
    drug: str,
    region: str,
    minimum: int,
) -> None:
    ClinicSettings.objects.update_or_create(id=1, defaults={"label_region": region})
    plan = start_plan(patient_a, drug, date(2025, 12, 1))
    second = date(2025, 12, 1) + timedelta(days=minimum - 1)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(plan=plan, kind="dose", given_on=second, by=nurse)
    assert "min_dose_interval" in unmet_keys(refused)

    given = plan_services.record_administration(
        plan=plan, kind="dose", given_on=second, by=neurologist, override_reason=OVERRIDE_REASON
    )
    assert GateOverride.objects.filter(administration=given, gate_key="min_dose_interval").exists()


def test_ocrelizumab_iv_second_half_of_the_split_first_dose_is_not_early(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User
) -> None:
    plan = start_plan(patient_a, "ocrelizumab_iv", date(2026, 6, 1))

    unmet = gates.unmet_gates(plan=plan, kind="dose", given_on=TODAY)  # day 15

    assert "min_dose_interval" not in {g.key for g in unmet}


def test_ocrelizumab_iv_a_third_infusion_is_measured_from_the_day_15_infusion(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    plan = start_plan(patient_a, "ocrelizumab_iv", date(2025, 11, 3))
    plan_services.record_administration(
        plan=plan, kind="dose", given_on=date(2025, 11, 17), by=neurologist
    )

    unmet = {g.key: g for g in gates.unmet_gates(plan=plan, kind="dose", given_on=date(2026, 4, 6))}

    assert unmet["min_dose_interval"].found == "140 days since the dose of 17 Nov 2025"


def test_the_plan_page_previews_the_next_infusion_after_the_one_given_today(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User, signed_in: Any
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 5, 18))
    plan_services.record_administration(plan=plan, kind="dose", given_on=TODAY, by=nurse)

    page = signed_in(nurse).get(plan.get_absolute_url()).content.decode()

    assert "Gates not met for the next dose / infusion today" in page
    assert "0 days since the dose of 15 Jun 2026" in page
    assert "not before 06 Jul 2026" in page
