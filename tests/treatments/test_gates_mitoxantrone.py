"""Mitoxantrone at the point of action: every dose in mg/m² with its BSA, a lifetime cap of
140 mg/m² over every plan, and the LVEF before every dose (§3.17)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import (
    TODAY,
    StartPlan,
    record_values,
    unmet_keys,
)
from treatments import errors
from treatments.catalogue.services import load_catalogue
from treatments.dosing import DoseEntry
from treatments.models import DmtPlan
from treatments.plans import gates, label_gates
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db


# --- mitoxantrone: every dose in mg/m², a lifetime cap of 140 mg/m², LVEF before every dose -----

MITOXANTRONE_START = date(2025, 1, 6)
HISTORY = [date(2025, m, 3) for m in (2, 3, 4, 5, 6, 7)]


def _before_a_dose(patient: Patient, day: date, by: User, lvef: str = "60") -> None:
    """The checks before a mitoxantrone dose: LVEF, neutrophils, liver tests, pregnancy test."""
    record_values(patient, "echo_lvef", day, by, ("lvef", lvef, None, None))
    record_values(patient, "cbc", day, by, ("neutrophils", "3.1", "1.8", "7.5"))
    record_values(patient, "lft", day, by, ("alt", "22", "0", "40"))
    record_values(patient, "pregnancy_test", day, by, qualitative="negative")


def _dose(mg_m2: str) -> DoseEntry:
    return DoseEntry(mg_m2=Decimal(mg_m2), bsa_m2=Decimal("1.80"))


@pytest.fixture
def mitoxantrone_132(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> DmtPlan:
    """12 mg/m² at the start and six doses of 20 mg/m²: 132 mg/m² given."""
    record_values(
        patient_a, "echo_lvef", MITOXANTRONE_START, neurologist, ("lvef", "62", None, None)
    )
    plan = start_plan(patient_a, "mitoxantrone", MITOXANTRONE_START)
    for day in HISTORY:
        plan_services.record_administration(
            plan=plan,
            kind="dose",
            given_on=day,
            by=neurologist,
            override_reason="Pre-dose checks on paper (test history)",
            dose=_dose("20"),
        )
    return plan


def test_mitoxantrone_dose_that_would_pass_140_mg_m2_is_refused(
    mitoxantrone_132: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=mitoxantrone_132, kind="dose", given_on=TODAY, by=nurse, dose=_dose("12")
        )

    [cap] = refused.value.unmet
    assert cap.key == "cumulative_dose"
    assert cap.found == "132 mg/m² already given + 12 mg/m² now = 144 mg/m²"
    assert cap.needed == "a lifetime total of at most 140 mg/m²"
    assert cap.source == "US-PI §2/§5"
    assert mitoxantrone_132.administrations.count() == 7


def test_mitoxantrone_dose_reaching_exactly_140_mg_m2_is_given(
    mitoxantrone_132: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse)

    given = plan_services.record_administration(
        plan=mitoxantrone_132, kind="dose", given_on=TODAY, by=nurse, dose=_dose("8")
    )

    assert given.dose_mg_m2 == Decimal("8")
    assert given.bsa_m2 == Decimal("1.80")
    cumulative = label_gates.cumulative_dose(mitoxantrone_132)
    assert cumulative is not None
    assert cumulative.given_mg_m2 == Decimal("140")
    assert cumulative.remaining_mg_m2 == 0


def test_mitoxantrone_cap_counts_every_plan_of_the_patient(
    mitoxantrone_132: DmtPlan, patient_a: Patient, nurse: User, neurologist: User, today: date
) -> None:
    plan_services.stop_dmt_plan(
        plan=mitoxantrone_132,
        stopped_on=date(2025, 8, 1),
        reason="other",
        note="Break",
        by=neurologist,
    )
    again = plan_services.plan_dmt(patient=patient_a, drug_key="mitoxantrone", by=neurologist)
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=again, started_on=TODAY, by=nurse, dose=_dose("12"))

    assert "cumulative_dose" in unmet_keys(refused)


def test_mitoxantrone_dose_without_mg_m2_is_refused_at_the_field(
    mitoxantrone_132: DmtPlan, nurse: User, today: date
) -> None:
    with pytest.raises(errors.TreatmentError, match="Give the dose in mg/m²") as refused:
        plan_services.record_administration(
            plan=mitoxantrone_132, kind="dose", given_on=TODAY, by=nurse
        )

    assert refused.value.field == "dose_mg_m2"
    assert mitoxantrone_132.administrations.count() == 7


def test_mitoxantrone_bsa_comes_from_height_and_weight_by_mosteller(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="mitoxantrone", by=neurologist)

    plan_services.start_dmt_plan(
        plan=plan,
        started_on=TODAY,
        by=neurologist,
        override_reason="Baseline on paper (test)",
        dose=DoseEntry(mg_m2=Decimal("12"), height_cm=Decimal("170"), weight_kg=Decimal("70")),
    )

    [first] = plan.administrations.all()
    assert (first.height_cm, first.weight_kg, first.bsa_m2) == (
        Decimal("170.0"),
        Decimal("70.0"),
        Decimal("1.82"),
    )
    assert first.dose_display == "12 mg/m² × 1.82 m² = 21.8 mg"


def test_mitoxantrone_an_earlier_dose_without_mg_m2_makes_the_total_unknown(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User, today: date
) -> None:
    record_values(patient_a, "echo_lvef", MITOXANTRONE_START, nurse, ("lvef", "62", None, None))
    plan = start_plan(patient_a, "mitoxantrone", MITOXANTRONE_START)
    # A dose recorded before doses were recorded in mg/m².
    plan.administrations.update(dose_mg_m2=None, bsa_m2=None)
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=plan, kind="dose", given_on=TODAY, by=nurse, dose=_dose("12")
        )

    [unknown] = refused.value.unmet
    assert unknown.found.startswith("1 earlier dose(s) recorded without mg/m²")


def test_mitoxantrone_lvef_below_50_refuses_the_dose(
    mitoxantrone_132: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse, lvef="45")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=mitoxantrone_132, kind="dose", given_on=TODAY, by=nurse, dose=_dose("4")
        )

    lvef = next(g for g in refused.value.unmet if g.key == "gate:each_dose:lvef:ge:absolute")
    assert lvef.found.startswith("LV ejection fraction 45 % on 12 Jun 2026")
    assert lvef.needed.startswith("LV ejection fraction ≥ 50 %")


@pytest.fixture
def mitoxantrone_from_lvef_62(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> DmtPlan:
    """Started on 2 Mar 2026 with every pre-dose check done, the baseline LVEF 62 %."""
    started = date(2026, 3, 2)
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="mitoxantrone", by=neurologist, planned_on=started
    )
    _before_a_dose(patient_a, started, nurse, lvef="62")
    record_values(patient_a, "ecg", started, nurse, ("heart_rate", "72", None, None))
    return plan_services.start_dmt_plan(
        plan=plan, started_on=started, by=nurse, dose=_dose("12"), contraception_confirmed=True
    )


def test_mitoxantrone_lvef_fall_of_10_points_from_baseline_refuses_the_dose(
    mitoxantrone_from_lvef_62: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse, lvef="52")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=mitoxantrone_from_lvef_62, kind="dose", given_on=TODAY, by=nurse, dose=_dose("12")
        )

    # 52 % is above 50 %, but 10 points below the baseline.
    [fall] = refused.value.unmet
    assert fall.key == "gate:each_dose:lvef:gt:baseline"
    assert fall.found == ("LV ejection fraction 52 % on 12 Jun 2026 (baseline 62 % on 02 Mar 2026)")


def test_mitoxantrone_lvef_fall_of_9_points_is_not_refused(
    mitoxantrone_from_lvef_62: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse, lvef="53")

    given = plan_services.record_administration(
        plan=mitoxantrone_from_lvef_62, kind="dose", given_on=TODAY, by=nurse, dose=_dose("12")
    )

    assert given.given_on == TODAY


def test_mitoxantrone_dose_form_asks_for_mg_m2_and_refuses_a_dose_without_it(
    mitoxantrone_132: DmtPlan, nurse: User, signed_in: Any
) -> None:
    client = signed_in(nurse)
    url = mitoxantrone_132.get_absolute_url()
    page = client.get(url).content.decode()
    assert 'name="dose_mg_m2"' in page
    assert "132 of 140 mg/m² (8 mg/m² left)" in page

    response = client.post(
        url + "doses/", {"kind": "dose", "given_on": TODAY.isoformat(), "bsa_m2": "1.8"}
    )

    assert response.status_code == 422
    # The message sits at the dose field.
    assert (
        'id="id_dose_mg_m2_error">Mitoxantrone doses are recorded in mg/m² with the BSA. '
        "Give the dose in mg/m²." in response.content.decode()
    )
    assert mitoxantrone_132.administrations.count() == 7


def test_mitoxantrone_height_out_of_range_is_refused_at_its_field(
    mitoxantrone_132: DmtPlan, nurse: User, signed_in: Any
) -> None:
    response = signed_in(nurse).post(
        mitoxantrone_132.get_absolute_url() + "doses/",
        {
            "kind": "dose",
            "given_on": TODAY.isoformat(),
            "dose_mg_m2": "8",
            "height_cm": "1.7",
            "weight_kg": "70",
        },
    )

    assert response.status_code == 422
    assert 'id="id_height_cm_error">' in response.content.decode()
    assert mitoxantrone_132.administrations.count() == 7


@pytest.mark.parametrize("lvef", ["4", "95", "0.55"])
def test_an_lvef_outside_5_to_90_percent_is_refused_at_its_field(
    eu_clinic: Any, patient_a: Patient, nurse: User, signed_in: Any, lvef: str, today: date
) -> None:
    url = f"/treatments/patients/{patient_a.external_id}/results/new/?investigation=echo_lvef"

    response = signed_in(nurse).post(
        url, {"taken_on": TODAY.isoformat(), "lvef_value": lvef, "lvef_unit": "%"}
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_lvef_value_error">LVEF' in body
    assert "outside the plausible range 5-90 %" in body
    assert not patient_a.results.exists()


@pytest.fixture
def catalogue_loaded(db: None) -> None:
    # A transactional test empties the tables the catalogue migration filled.
    load_catalogue()


@pytest.mark.django_db(transaction=True)
def test_two_doses_recorded_at_once_cannot_both_pass_the_cap(
    catalogue_loaded: None, mitoxantrone_132: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    _before_a_dose(patient_a, TODAY - timedelta(days=3), nurse)
    barrier = threading.Barrier(2)
    refusals: list[gates.GateRefused] = []

    def record(given_on: date) -> None:
        barrier.wait()
        try:
            plan_services.record_administration(
                plan=DmtPlan.objects.get(pk=mitoxantrone_132.pk),
                kind="dose",
                given_on=given_on,
                by=nurse,
                dose=_dose("8"),
            )
        except gates.GateRefused as refused:
            refusals.append(refused)
        finally:
            connection.close()  # this thread's own connection

    # Each fits under 140 mg/m² alone; together they would make 148.
    threads = [
        threading.Thread(target=record, args=(day,)) for day in (TODAY - timedelta(days=1), TODAY)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert mitoxantrone_132.administrations.count() == 8
    [refused] = refusals
    assert "cumulative_dose" in {gate.key for gate in refused.unmet}
