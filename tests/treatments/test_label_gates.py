"""The label rules that are gates, one drug at a time, through the plan services: each refuses
the action naming its rule, the value found and the source, and a neurologist may override it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient, PregnancyStatus, Sex
from tests.treatments.conftest import TODAY, StartPlan, record_values
from treatments import errors
from treatments.dosing import DoseEntry
from treatments.models import ClinicSettings, DmtPlan, GateOverride, Result
from treatments.monitoring import services as monitoring_services
from treatments.plans import gates, label_gates
from treatments.plans import services as plan_services
from treatments.protocols import CYP2C9_GENOTYPES

pytestmark = pytest.mark.django_db

OVERRIDE = "Discussed at the MDT; benefit outweighs the risk"


def _keys(refused: Any) -> set[str]:
    return {gate.key for gate in refused.value.unmet}


# --- cladribine: two courses, and course 2 delayed by at most 6 months ---------------------------

COURSE_1 = date(2024, 6, 17)
COURSE_2 = date(2025, 6, 16)
THIRD = date(2026, 6, 15)


def _before_a_course(patient: Patient, day: date, by: User, lymphocytes: str = "1.2") -> None:
    """Blood count, liver tests and a negative pregnancy test a few days before a course."""
    record_values(patient, "cbc", day, by, ("lymphocytes", lymphocytes, "1.0", "4.0"))
    record_values(patient, "lft", day, by, ("alt", "22", "0", "40"))
    record_values(patient, "pregnancy_test", day, by, qualitative="negative")


@pytest.fixture
def two_courses(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User) -> DmtPlan:
    plan = start_plan(patient_a, "cladribine", COURSE_1)
    _before_a_course(patient_a, COURSE_2 - timedelta(days=2), nurse)
    plan_services.record_administration(plan=plan, kind="course", given_on=COURSE_2, by=nurse)
    return plan


def test_cladribine_third_course_is_refused_even_with_lymphocytes_checked(
    two_courses: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    _before_a_course(patient_a, THIRD - timedelta(days=2), nurse, lymphocytes="0.4")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=two_courses, kind="course", given_on=THIRD, by=nurse
        )

    # The course limit refuses it; no gate speaks of lymphocytes "before course 3".
    assert _keys(refused) == {"course_limit"}
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

    assert "course_limit" in _keys(refused)


def test_a_neurologist_may_give_a_third_course_with_a_reason(
    two_courses: DmtPlan, patient_a: Patient, nurse: User, neurologist: User, today: date
) -> None:
    _before_a_course(patient_a, THIRD - timedelta(days=2), nurse)

    given = plan_services.record_administration(
        plan=two_courses, kind="course", given_on=THIRD, by=neurologist, override_reason=OVERRIDE
    )

    [override] = GateOverride.objects.filter(administration=given)
    assert override.gate_key == "course_limit"
    assert override.reason == OVERRIDE


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
    _before_a_course(patient_a, late - timedelta(days=2), nurse, lymphocytes="0.9")

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=after_course_1, kind="course", given_on=late, by=nurse
        )

    assert _keys(refused) == {"course_delay"}
    [delay] = refused.value.unmet
    assert "no further cladribine" in delay.rule
    assert "planned for 17 Jun 2025" in delay.found
    assert delay.needed.startswith("recovery by 17 Dec 2025")


def test_cladribine_course_2_late_for_another_reason_after_recovery_in_time_is_allowed(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    record_values(patient_a, "cbc", date(2025, 6, 1), nurse, ("lymphocytes", "0.9", "1.0", "4.0"))
    late = date(2026, 1, 12)
    _before_a_course(patient_a, late - timedelta(days=2), nurse, lymphocytes="0.9")

    given = plan_services.record_administration(
        plan=after_course_1, kind="course", given_on=late, by=nurse
    )

    assert given.given_on == late


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

    assert "cumulative_dose" in _keys(refused)


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
    assert qtc.found == "QTc interval 510 ms on 08 Jun 2026"
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
    assert "min_dose_interval" in _keys(refused)

    given = plan_services.record_administration(
        plan=plan, kind="dose", given_on=second, by=neurologist, override_reason=OVERRIDE
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
        plan=teriflunomide_planned, started_on=TODAY, by=neurologist, override_reason=OVERRIDE
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


def test_teriflunomide_alt_without_the_labs_upper_limit_cannot_open_the_gate(
    teriflunomide_planned: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    record_values(patient_a, "lft", TODAY - timedelta(days=20), nurse, ("alt", "30", None, None))

    unmet = {
        g.key: g for g in gates.unmet_gates(plan=teriflunomide_planned, kind="dose", given_on=TODAY)
    }

    assert "cannot be judged" in unmet[ALT_GATE].found


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


def test_a_pregnant_patient_is_refused_a_cladribine_course_too(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, today: date
) -> None:
    _before_a_course(patient_a, date(2025, 6, 12), nurse)
    _pregnant(after_course_1.patient)  # the plan's own copy of the record, as a request loads it

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=after_course_1, kind="course", given_on=date(2025, 6, 16), by=nurse
        )

    assert "pregnancy" in _keys(refused)


def test_fingolimod_for_a_pregnant_patient_is_refused_at_the_start(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    _pregnant(patient_a)
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.start_dmt_plan(plan=plan, started_on=TODAY, by=neurologist)

    assert "pregnancy" in _keys(refused)
    assert "contraception" not in _keys(refused)  # moot while pregnant
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
