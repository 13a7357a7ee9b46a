"""Correcting doses, symptomatic treatments, and every treatments record through its pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import TODAY, StartPlan, due_dates
from treatments.corrections import doses, symptomatic
from treatments.models import DmtAdministration, SymptomaticTreatment
from treatments.monitoring import services as monitoring_services
from treatments.plans import services as plan_services
from treatments.protocols import add_months
from treatments.safety import services as safety_services
from treatments.symptomatic.services import record_symptomatic_treatment

pytestmark = pytest.mark.django_db

OPEN = ["scheduled", "booked"]
# Course 2's gates (lymphocytes, liver tests, pregnancy test) are not what these tests are about.
BLOODS_ELSEWHERE = "Bloods done at the referring hospital (test)."


@pytest.fixture
def on_cladribine(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "cladribine", date(2025, 6, 2))


def test_an_amended_course_date_moves_the_monitoring_anchored_on_it(
    on_cladribine: Any, neurologist: User
) -> None:
    plan = on_cladribine
    wrong_day, right_day = date(2026, 6, 1), date(2026, 5, 4)
    course = plan_services.record_administration(
        plan=plan,
        kind="course",
        given_on=wrong_day,
        by=neurologist,
        override_reason=BLOODS_ELSEWHERE,
    )
    assert add_months(wrong_day, 2) in due_dates(plan, "lymphocytes_2_6m", status__in=OPEN)

    amended = doses.amend_dose(
        given=course, kind="course", given_on=right_day, note="", reason="Date", by=neurologist
    )

    assert amended.amends == course
    open_dates = due_dates(plan, "lymphocytes_2_6m", status__in=OPEN)
    assert add_months(right_day, 2) in open_dates
    assert add_months(wrong_day, 2) not in open_dates  # cancelled by the re-sync


def test_a_course_entered_in_error_takes_its_monitoring_with_it(
    on_cladribine: Any, neurologist: User
) -> None:
    plan = on_cladribine
    course = plan_services.record_administration(
        plan=plan,
        kind="course",
        given_on=date(2026, 6, 1),
        by=neurologist,
        override_reason=BLOODS_ELSEWHERE,
    )
    doses.mark_dose_in_error(record=course, reason="Second course not given", by=neurologist)
    anchors = set(
        plan.items.filter(rule_key="lymphocytes_2_6m", status__in=OPEN).values_list(
            "anchor_on", flat=True
        )
    )
    assert anchors == {date(2025, 6, 2)}
    assert list(plan.administrations.standing().values_list("given_on", flat=True)) == [
        date(2025, 6, 2)
    ]


def test_a_dose_amended_onto_a_day_that_has_one_is_refused(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 3, 2))
    plan_services.record_administration(
        plan=plan, kind="dose", given_on=date(2026, 3, 30), by=nurse
    )
    later = plan_services.record_administration(
        plan=plan, kind="dose", given_on=date(2026, 4, 27), by=nurse
    )
    with pytest.raises(ValidationError) as refused:
        doses.amend_dose(
            given=later, kind="dose", given_on=date(2026, 3, 30), note="", reason="x", by=nurse
        )
    assert "already recorded" in refused.value.message_dict["given_on"][0]


def test_the_first_dose_is_not_corrected_on_its_own(on_cladribine: Any, neurologist: User) -> None:
    first = on_cladribine.administrations.get()
    assert doses.refusal(first, "error") == doses.FIRST_DOSE
    with pytest.raises(ValidationError):
        doses.mark_dose_in_error(record=first, reason="x", by=neurologist)


@pytest.fixture
def baclofen(patient_a: Patient, nurse: User, today: date) -> SymptomaticTreatment:
    return record_symptomatic_treatment(
        patient=patient_a,
        kind="symptomatic",
        drug="Baclofen",
        indication="spasticity",
        dose="10 mg",
        started_on=TODAY - timedelta(days=30),
        stopped_on=None,
        note="",
        by=nurse,
    )


def test_an_amended_treatment_replaces_the_original(baclofen: Any, nurse: User) -> None:
    amended = symptomatic.amend_treatment(
        treatment=baclofen,
        kind="symptomatic",
        drug="Baclofen",
        indication="spasticity",
        dose="5 mg three times daily",
        started_on=baclofen.started_on,
        stopped_on=None,
        note="",
        reason="Dose mistyped",
        by=nurse,
    )
    assert list(SymptomaticTreatment.objects.standing()) == [amended]
    baclofen.refresh_from_db()
    assert baclofen.is_amended


def test_a_corrected_treatment_cannot_be_stopped(baclofen: Any, nurse: User) -> None:
    from treatments.errors import TreatmentError
    from treatments.symptomatic.services import stop_symptomatic_treatment

    symptomatic.mark_treatment_in_error(record=baclofen, reason="Wrong patient", by=nurse)
    baclofen.refresh_from_db()
    with pytest.raises(TreatmentError, match="entered in error"):
        stop_symptomatic_treatment(treatment=baclofen, stopped_on=TODAY, by=nurse)


def test_a_treatment_amended_to_stop_before_it_started_is_refused(
    baclofen: Any, nurse: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        symptomatic.amend_treatment(
            treatment=baclofen,
            kind="symptomatic",
            drug="Baclofen",
            indication="spasticity",
            dose="10 mg",
            started_on=baclofen.started_on,
            stopped_on=baclofen.started_on - timedelta(days=1),
            note="",
            reason="x",
            by=nurse,
        )
    assert "stopped_on" in refused.value.message_dict


# Every treatments record through its correction pages ------------------------------------------


def correction_url(step: str, patient: Patient, kind: str, record: Any) -> str:
    return reverse(
        f"corrections:{step}",
        kwargs={"external_id": patient.external_id, "kind": kind, "record_id": record.pk},
    )


@pytest.fixture
def records(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, nurse: User, baclofen: Any
) -> dict[str, Any]:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 3, 2))
    dose = plan_services.record_administration(
        plan=plan, kind="dose", given_on=date(2026, 3, 30), by=nurse
    )
    result = monitoring_services.record_result(
        patient=patient_a,
        investigation="cbc",
        taken_on=TODAY,
        values=[
            monitoring_services.EnteredValue(
                "neutrophils", Decimal(4), "×10⁹/L", Decimal("1.8"), Decimal("7.5")
            )
        ],
        by=nurse,
    )
    report = safety_services.report_side_effect(
        patient=patient_a,
        plan=plan,
        effect="",
        effect_other="Headache",
        onset_on=TODAY,
        ctcae_grade=1,
        serious=False,
        action_taken="none",
        notes="",
        by=nurse,
    )
    return {
        "result": result,
        "side-effect": report,
        "dose": dose,
        "symptomatic": baclofen,
    }


@pytest.mark.parametrize("kind", ["result", "side-effect", "dose", "symptomatic"])
def test_each_record_is_marked_entered_in_error_through_its_page(
    kind: str, records: dict[str, Any], patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    record = records[kind]
    client = signed_in(nurse)
    assert client.get(correction_url("error", patient_a, kind, record)).status_code == 200
    response = client.post(
        correction_url("error", patient_a, kind, record), {"correction-reason": "Wrong patient"}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.is_entered_in_error
    page = client.get(response.url.split("#")[0]).content.decode()
    assert "Wrong patient" in page  # shown struck through, with why


@pytest.mark.parametrize(
    ("kind", "data", "changed"),
    [
        (
            "result",
            {
                "taken_on": "2026-06-15",
                "neutrophils_value": "0.9",
                "neutrophils_unit": "×10⁹/L",
                "neutrophils_low": "1.8",
                "neutrophils_high": "7.5",
            },
            lambda r: r.values.get().value == Decimal("0.9"),
        ),
        (
            "side-effect",
            {
                "effect_other": "Migraine",
                "onset_on": "2026-06-15",
                "ctcae_grade": "2",
                "action_taken": "treated",
            },
            lambda r: (r.effect_other, r.ctcae_grade) == ("Migraine", 2),
        ),
        (
            "dose",
            {"kind": "dose", "given_on": "2026-03-31", "note": ""},
            lambda r: r.given_on == date(2026, 3, 31),
        ),
        (
            "symptomatic",
            {
                "kind": "symptomatic",
                "drug": "Baclofen",
                "indication": "spasticity",
                "dose": "5 mg",
                "started_on": "2026-05-16",
            },
            lambda r: r.dose == "5 mg",
        ),
    ],
)
def test_each_record_is_amended_through_its_page(
    kind: str,
    data: dict[str, str],
    changed: Any,
    records: dict[str, Any],
    patient_a: Patient,
    nurse: User,
    signed_in: Any,
) -> None:
    record = records[kind]
    client = signed_in(nurse)
    page = client.get(correction_url("amend", patient_a, kind, record))
    assert page.status_code == 200
    response = client.post(
        correction_url("amend", patient_a, kind, record),
        {**data, "correction-reason": "Transcription error"},
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    replacement = type(record).objects.get(amends=record)
    assert changed(replacement)


def test_the_result_amend_page_is_filled_in_with_the_values_as_recorded(
    records: dict[str, Any], patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    page = signed_in(nurse).get(correction_url("amend", patient_a, "result", records["result"]))
    form = page.context["form"]
    assert form["neutrophils_value"].value() == 4
    assert form["neutrophils_high"].value() == 7.5


def test_the_first_dose_offers_no_correction_and_its_page_says_why(
    records: dict[str, Any], patient_a: Patient, neurologist: User, signed_in: Any
) -> None:
    first = DmtAdministration.objects.get(plan=records["dose"].plan, given_on=date(2026, 3, 2))
    response = signed_in(neurologist).get(correction_url("error", patient_a, "dose", first))
    assert response.status_code == 409
    assert "first dose" in response.content.decode()
