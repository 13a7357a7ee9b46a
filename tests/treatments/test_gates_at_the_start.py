"""Gates before the first dose that a result decides: the siponimod CYP2C9 genotype (§3.7), the
fingolimod baseline QTc (§3.6) and the teriflunomide baseline ALT (§3.3)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import (
    OVERRIDE_REASON,
    TODAY,
    record_values,
)
from treatments import errors
from treatments.models import DmtPlan, GateOverride, Result
from treatments.monitoring import services as monitoring_services
from treatments.plans import gates
from treatments.plans import services as plan_services
from treatments.protocols import CYP2C9_GENOTYPES

pytestmark = pytest.mark.django_db


# --- siponimod: the CYP2C9 genotype decides the start and the dose ------------------------------


def _genotype(patient: Patient, by: User, genotype: str) -> Any:
    return monitoring_services.record_result(
        patient=patient,
        investigation="cyp2c9",
        taken_on=TODAY - timedelta(days=30),
        by=by,
        genotype=genotype,
    )


@pytest.fixture
def siponimod_planned(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> DmtPlan:
    return plan_services.plan_dmt(patient=patient_a, drug_key="siponimod", by=neurologist)


def _cyp2c9_gate(refused: Any) -> Any:
    return next(g for g in refused.value.unmet if g.key == "gate:first_dose:cyp2c9:ne:absolute")


def test_siponimod_cyp2c9_3_3_refuses_the_start(
    siponimod_planned: DmtPlan, patient_a: Patient, nurse: User, neurologist: User, today: date
) -> None:
    _genotype(patient_a, nurse, "*3/*3")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=siponimod_planned, started_on=TODAY, by=neurologist)

    gate = _cyp2c9_gate(refused)
    assert gate.found == "CYP2C9 genotype *3/*3 on 16 May 2026"
    assert gate.needed == "CYP2C9 genotype ≠ *3/*3"
    assert gate.source == "EU-SmPC §4.2"


def test_siponimod_without_a_genotype_is_refused_for_want_of_it(
    siponimod_planned: DmtPlan, neurologist: User, today: date
) -> None:
    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=siponimod_planned, started_on=TODAY, by=neurologist)

    assert _cyp2c9_gate(refused).found == "no result"


def test_siponimod_an_old_finding_without_a_genotype_does_not_pass_the_gate(
    siponimod_planned: DmtPlan, patient_a: Patient, nurse: User, neurologist: User, today: date
) -> None:
    # Recorded before genotypes were structured: "abnormal" says nothing about *3/*3.
    Result.objects.create(
        patient=patient_a,
        investigation="cyp2c9",
        taken_on=TODAY - timedelta(days=30),
        qualitative="abnormal",
        recorded_by=nurse,
    )

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=siponimod_planned, started_on=TODAY, by=neurologist)

    assert "cannot be judged" in _cyp2c9_gate(refused).found


@pytest.mark.parametrize("genotype", ["*1/*1", "*1/*2", "*2/*2", "*1/*3", "*2/*3"])
def test_siponimod_genotypes_other_than_3_3_meet_the_gate(
    siponimod_planned: DmtPlan, patient_a: Patient, nurse: User, today: date, genotype: str
) -> None:
    _genotype(patient_a, nurse, genotype)

    unmet = gates.unmet_gates(plan=siponimod_planned, kind="dose", given_on=TODAY)

    assert "gate:first_dose:cyp2c9:ne:absolute" not in {g.key for g in unmet}


@pytest.mark.parametrize(
    ("genotype", "maintenance", "titration"),
    [
        ("*1/*1", "2 mg daily from day 6", "1.25 mg on day 5"),
        ("*2/*2", "2 mg daily from day 6", "1.25 mg on day 5"),
        ("*1/*3", "1 mg daily from day 5", "0.75 mg on day 4"),
        ("*2/*3", "1 mg daily from day 5", "0.75 mg on day 4"),
    ],
)
def test_siponimod_plan_shows_the_titration_and_maintenance_dose_of_the_genotype(
    siponimod_planned: DmtPlan,
    patient_a: Patient,
    nurse: User,
    signed_in: Any,
    genotype: str,
    maintenance: str,
    titration: str,
) -> None:
    _genotype(patient_a, nurse, genotype)

    page = signed_in(nurse).get(siponimod_planned.get_absolute_url()).content.decode()

    assert f"CYP2C9 <strong>{genotype}</strong>" in page
    assert f"maintenance <strong>{maintenance}</strong>" in page
    assert titration in page
    if genotype.endswith("*3"):
        assert "1.25 mg" not in page  # the shorter titration stops at 0.75 mg


@pytest.mark.parametrize("genotype", ["*4/*4", "*1/*1 ", "normal", "3/3"])
def test_a_genotype_that_is_not_one_of_the_listed_alleles_is_refused(
    eu_clinic: Any, patient_a: Patient, nurse: User, genotype: str
) -> None:
    with pytest.raises(errors.TreatmentError, match="not a listed genotype") as refused:
        _genotype(patient_a, nurse, genotype)

    assert refused.value.field == "genotype"
    assert not patient_a.results.exists()


def test_a_cyp2c9_result_needs_its_genotype(
    eu_clinic: Any, patient_a: Patient, nurse: User
) -> None:
    with pytest.raises(errors.TreatmentError, match="Choose the genotype") as refused:
        monitoring_services.record_result(
            patient=patient_a,
            investigation="cyp2c9",
            taken_on=TODAY,
            by=nurse,
            qualitative="abnormal",
        )

    assert refused.value.field == "genotype"


def test_the_result_form_offers_the_listed_genotypes_and_refuses_others_at_the_field(
    eu_clinic: Any, patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    client = signed_in(nurse)
    url = f"/treatments/patients/{patient_a.external_id}/results/new/?investigation=cyp2c9"
    form = client.get(url).content.decode()
    assert all(f'value="{g}"' in form for g in CYP2C9_GENOTYPES)

    response = client.post(url, {"taken_on": TODAY.isoformat(), "genotype": "*4/*4"})

    assert response.status_code == 422
    assert 'id="id_genotype_error">*4/*4 is not a listed genotype' in response.content.decode()
    assert not patient_a.results.exists()

    saved = client.post(url, {"taken_on": TODAY.isoformat(), "genotype": "*1/*3"})
    assert saved.status_code == 302
    assert patient_a.results.get().genotype == "*1/*3"


# --- fingolimod: a baseline QTc of 500 ms or more refuses the start -------------------------------


@pytest.fixture
def fingolimod_planned(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> DmtPlan:
    return plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)


def _ecg(patient: Patient, by: User, *values: tuple[str, str, str | None, str | None]) -> None:
    record_values(patient, "ecg", TODAY - timedelta(days=7), by, *values)


QTC_GATE = "gate:first_dose:qtc:lt:absolute"


def test_fingolimod_baseline_qtc_of_510_ms_refuses_the_start(
    fingolimod_planned: DmtPlan, patient_a: Patient, nurse: User, neurologist: User
) -> None:
    _ecg(patient_a, nurse, ("heart_rate", "68", None, None), ("qtc", "510", None, None))

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=fingolimod_planned, started_on=TODAY, by=neurologist)

    qtc = next(g for g in refused.value.unmet if g.key == QTC_GATE)
    # The clinic default range is shown beside the value, as a multiple of its upper limit.
    assert qtc.found == "QTc interval 510 ms (1.1×ULN) on 08 Jun 2026"
    assert qtc.needed == "QTc interval < 500 ms"
    assert qtc.source == "US-PI §4; EU-SmPC §4.3"


@pytest.mark.parametrize(("qtc", "refused"), [("500", True), ("499", False), ("470", False)])
def test_fingolimod_qtc_gate_is_at_500_ms(
    fingolimod_planned: DmtPlan, patient_a: Patient, nurse: User, qtc: str, refused: bool
) -> None:
    _ecg(patient_a, nurse, ("qtc", qtc, None, None))

    unmet = {g.key for g in gates.unmet_gates(plan=fingolimod_planned, kind="dose", given_on=TODAY)}

    assert (QTC_GATE in unmet) is refused


def test_fingolimod_ecg_without_a_qtc_does_not_open_the_gate(
    fingolimod_planned: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    _ecg(patient_a, nurse, ("heart_rate", "68", None, None))

    unmet = {
        g.key: g for g in gates.unmet_gates(plan=fingolimod_planned, kind="dose", given_on=TODAY)
    }

    assert unmet[QTC_GATE].found == "no result"
    assert "gate:first_dose:ecg:done:absolute" not in unmet  # the ECG itself is on file


# --- teriflunomide: not started with a baseline ALT above 2 × ULN --------------------------------

ALT_GATE = "gate:first_dose:alt:le:uln"


@pytest.fixture
def teriflunomide_planned(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> DmtPlan:
    return plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)


def test_teriflunomide_baseline_alt_above_2_uln_refuses_the_start(
    teriflunomide_planned: DmtPlan, patient_a: Patient, nurse: User, neurologist: User
) -> None:
    record_values(patient_a, "lft", TODAY - timedelta(days=20), nurse, ("alt", "90", "0", "40"))

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=teriflunomide_planned, started_on=TODAY, by=neurologist)

    alt = next(g for g in refused.value.unmet if g.key == ALT_GATE)
    assert alt.found == "ALT 90 U/L (2.2×ULN) on 26 May 2026"
    assert alt.needed == "ALT ≤ 2×ULN, taken in the 183 days before the dose"
    assert alt.source == "US-PI §5.1"

    plan_services.start_dmt_plan(
        plan=teriflunomide_planned,
        started_on=TODAY,
        by=neurologist,
        override_reason=OVERRIDE_REASON,
    )
    assert GateOverride.objects.filter(plan=teriflunomide_planned, gate_key=ALT_GATE).exists()


@pytest.mark.parametrize(("alt", "high", "refused"), [("80", "40", False), ("81", "40", True)])
def test_teriflunomide_alt_gate_is_at_2_uln(
    teriflunomide_planned: DmtPlan,
    patient_a: Patient,
    nurse: User,
    alt: str,
    high: str,
    refused: bool,
) -> None:
    record_values(patient_a, "lft", TODAY - timedelta(days=20), nurse, ("alt", alt, "0", high))

    unmet = gates.unmet_gates(plan=teriflunomide_planned, kind="dose", given_on=TODAY)

    assert (ALT_GATE in {g.key for g in unmet}) is refused


def test_teriflunomide_alt_without_the_labs_upper_limit_is_judged_on_the_clinic_default(
    teriflunomide_planned: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    # Issue #14.3: flags never depend on typing a range. An ALT typed without the lab's upper
    # limit is graded against the clinic's default range, so the gate can be judged (and 30 U/L
    # is well under twice any adult default).
    record_values(patient_a, "lft", TODAY - timedelta(days=20), nurse, ("alt", "30", None, None))

    unmet = {
        g.key: g for g in gates.unmet_gates(plan=teriflunomide_planned, kind="dose", given_on=TODAY)
    }

    assert ALT_GATE not in unmet
