"""Pregnancy and contraception as gates (§6): a drug not for pregnancy is refused for a patient
recorded as pregnant; a drug that needs contraception asks for it at the start; a man is not
asked for what only concerns women."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient, PregnancyStatus, Sex
from tests.treatments.conftest import (
    TODAY,
    StartPlan,
    before_a_cladribine_course,
    unmet_keys,
)
from treatments.models import DmtPlan, GateOverride
from treatments.plans import gates, label_gates
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db


# --- pregnancy and contraception -----------------------------------------------------------------


def _pregnant(patient: Patient) -> None:
    patient.pregnancy_status = PregnancyStatus.PREGNANT
    patient.save(update_fields=["pregnancy_status"])


def _male(patient: Patient) -> None:
    patient.sex = Sex.MALE
    patient.save(update_fields=["sex"])


def _start_gates(patient: Patient, drug: str, by: User) -> dict[str, Any]:
    plan = plan_services.plan_dmt(patient=patient, drug_key=drug, by=by)
    return {g.key: g for g in gates.unmet_gates(plan=plan, kind="dose", given_on=TODAY)}


@pytest.mark.parametrize(
    ("drug", "words"),
    [
        ("fingolimod", "Fingolimod is contraindicated in pregnancy"),
        ("teriflunomide", "Teriflunomide is contraindicated in pregnancy"),
        ("cladribine", "Cladribine tablets is contraindicated in pregnancy"),
        ("ocrelizumab_iv", "Ocrelizumab (intravenous) is to be avoided in pregnancy"),
        ("dimethyl_fumarate", "Dimethyl fumarate is to be avoided in pregnancy"),
    ],
)
def test_a_drug_not_for_pregnancy_is_refused_for_a_patient_recorded_as_pregnant(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date, drug: str, words: str
) -> None:
    _pregnant(patient_a)

    pregnancy = _start_gates(patient_a, drug, neurologist)["pregnancy"]

    assert pregnancy.rule == words
    assert pregnancy.found == "the patient is recorded as pregnant"
    assert pregnancy.source


@pytest.mark.parametrize("drug", ["natalizumab_iv", "glatiramer", "interferon_beta_1a_im"])
def test_a_drug_that_may_be_used_in_pregnancy_is_not_refused_for_it(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date, drug: str
) -> None:
    _pregnant(patient_a)

    assert "pregnancy" not in _start_gates(patient_a, drug, neurologist)


@pytest.fixture
def after_course_1(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> DmtPlan:
    return start_plan(patient_a, "cladribine", date(2024, 6, 17))


def test_a_pregnant_patient_is_refused_a_cladribine_course_too(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    before_a_cladribine_course(patient_a, date(2025, 6, 12), nurse)
    _pregnant(after_course_1.patient)  # the plan's own copy of the record, as a request loads it

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=after_course_1, kind="course", given_on=date(2025, 6, 16), by=nurse
        )

    assert "pregnancy" in unmet_keys(refused)


def test_fingolimod_for_a_pregnant_patient_is_refused_at_the_start(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    _pregnant(patient_a)
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=plan, started_on=TODAY, by=neurologist)

    assert "pregnancy" in unmet_keys(refused)
    assert "contraception" not in unmet_keys(refused)  # moot while pregnant
    plan.refresh_from_db()
    assert plan.is_planned


def test_a_drug_that_needs_contraception_asks_for_it_at_the_start(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    contraception = _start_gates(patient_a, "fingolimod", neurologist)["contraception"]

    assert contraception.rule == (
        "Contraception: Effective contraception during treatment and for 2 months after the "
        "last dose"
    )
    assert contraception.found == "not confirmed"
    assert contraception.source == "EU-SmPC §4.6"


def test_confirmed_contraception_is_recorded_with_the_start(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)
    unmet = gates.unmet_gates(plan=plan, kind="dose", given_on=TODAY, contraception_confirmed=True)
    assert "contraception" not in {g.key for g in unmet}

    plan_services.start_dmt_plan(
        plan=plan,
        started_on=TODAY,
        by=neurologist,
        contraception_confirmed=True,
        override_reason="Baseline done at the referring hospital",
    )

    record = plan.baseline_records.get(investigation=label_gates.CONTRACEPTION_CHECK)
    assert record.checked_by == neurologist
    assert record.done_on == TODAY
    assert "2 months after the last dose" in record.note
    assert not GateOverride.objects.filter(plan=plan, gate_key="contraception").exists()


def test_a_man_is_not_asked_for_contraception_unless_the_label_says_so(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    _male(patient_a)

    assert "contraception" not in _start_gates(patient_a, "fingolimod", neurologist)
    cladribine = _start_gates(patient_a, "cladribine", neurologist)["contraception"]
    assert "(women and men)" in cladribine.rule


def test_a_mans_checklist_has_no_pregnancy_test_or_cervical_screening(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)
    women = {c.investigation for c in gates.patient_checklist(plan)}
    assert {"pregnancy_test", "cervical_screening"} <= women

    _male(patient_a)
    plan.patient.refresh_from_db()

    men = {c.investigation for c in gates.patient_checklist(plan)}
    assert women - men == {"pregnancy_test", "cervical_screening"}
    assert not {g.key for g in gates.unmet_gates(plan=plan, kind="dose", given_on=TODAY)} & {
        "baseline:pregnancy_test",
        "baseline:cervical_screening",
        "pregnancy",
    }


def test_the_start_form_asks_for_contraception_in_the_labels_words(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, signed_in: Any, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="cladribine", by=neurologist)

    page = signed_in(nurse).get(plan.get_absolute_url()).content.decode()

    assert 'name="contraception_confirmed"' in page
    assert (
        "Contraception discussed and in place: Effective contraception (women and men) during "
        "treatment and for at least 6 months after the last dose of each yearly course" in page
    )
