"""Family planning and pregnancy through the services and the page: the planner over the
current DMT, the levels, the dated pregnancy and delivery, the monitoring a pregnancy defers,
and every impossible date refused at its field."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent, Category
from patients.models import Patient, PregnancyStatus
from patients.records.timeline import timeline_for
from tests.treatments.conftest import StartPlan
from treatments.errors import TreatmentError
from treatments.family import services
from treatments.models import ItemStatus, MonitoringItem, Pregnancy

pytestmark = pytest.mark.django_db


def _url(name: str, patient: Patient) -> str:
    return reverse(f"family:{name}", kwargs={"external_id": patient.external_id})


def test_planning_on_fingolimod_shows_the_stop_date_and_marks_the_record(
    alice: Patient, nurse: User, start_plan: StartPlan, signed_in: Any, today: date
):
    start_plan(alice, "fingolimod", date(2026, 1, 5))
    response = signed_in(nurse).post(
        _url("plan", alice),
        {"intended_conception_on": "2027-01-15", "breastfeeding_intended": "on"},
    )
    assert response.status_code == 302
    page = signed_in(nurse).get(_url("patient", alice)).content.decode()
    assert "15 Nov 2026" in page  # stop 2 months before
    assert "EU-SmPC §4.6" in page
    alice.refresh_from_db()
    assert alice.pregnancy_status == PregnancyStatus.PLANNING
    assert AccessEvent.objects.filter(
        category=Category.FAMILY_PLANNING, detail="conception planned"
    ).exists()


def test_a_past_conception_date_is_refused_at_its_field(
    alice: Patient, nurse: User, signed_in: Any, today: date
):
    response = signed_in(nurse).post(_url("plan", alice), {"intended_conception_on": "2026-01-01"})
    assert response.status_code == 422
    assert "The intended conception date is in the past." in response.content.decode()


def test_teriflunomide_levels_confirm_the_elimination(
    alice: Patient, neurologist: User, start_plan: StartPlan, today: date
):
    start_plan(alice, "teriflunomide", date(2026, 1, 5))
    plan = services.save_family_plan(
        patient=alice,
        intended_conception_on=date(2026, 9, 1),
        breastfeeding_intended=False,
        by=neurologist,
    )
    for day, value in ((date(2026, 5, 20), "0.012"), (date(2026, 6, 5), "0.008")):
        services.record_elimination_level(
            family_plan=plan, taken_on=day, value_mg_l=Decimal(value), by=neurologist
        )
    planner = services.planner(patient=alice, today=today)
    assert planner.elimination_confirmed_on == date(2026, 6, 5)
    assert all(step.done for step in planner.advice.steps[:3])  # type: ignore[union-attr]


def test_a_level_on_a_plan_not_made_on_teriflunomide_is_refused(
    alice: Patient, neurologist: User, start_plan: StartPlan, today: date
):
    start_plan(alice, "fingolimod", date(2026, 1, 5))
    plan = services.save_family_plan(
        patient=alice,
        intended_conception_on=date(2026, 12, 1),
        breastfeeding_intended=True,
        by=neurologist,
    )
    with pytest.raises(TreatmentError) as refused:
        services.record_elimination_level(
            family_plan=plan, taken_on=today, value_mg_l=Decimal("0.01"), by=neurologist
        )
    assert refused.value.field == "value_mg_l"


def test_a_pregnancy_defers_routine_mri_with_its_reason_and_leaves_bloods_alone(
    alice: Patient, nurse: User, start_plan: StartPlan, today: date
):
    plan = start_plan(alice, "natalizumab_iv", date(2026, 1, 5))
    mri_open = MonitoringItem.objects.filter(patient=alice, investigation="mri_brain").open()
    assert mri_open.exists()  # the general re-baseline MRI falls in the pregnancy
    bloods_before = plan.items.exclude(investigation="mri_brain").open().count()
    pregnancy, deferred = services.record_pregnancy(
        patient=alice, conceived_on=date(2026, 6, 1), by=nurse
    )
    assert deferred >= 1
    waived = MonitoringItem.objects.filter(patient=alice, status=ItemStatus.WAIVED)
    assert {item.investigation for item in waived} == {"mri_brain"}
    assert all("MAGNIMS-2021" in item.waived_reason for item in waived)
    assert all(item.due_on <= pregnancy.expected_delivery_on for item in waived)
    assert plan.items.exclude(investigation="mri_brain").open().count() == bloods_before
    alice.refresh_from_db()
    assert alice.pregnancy_status == PregnancyStatus.PREGNANT
    assert pregnancy.expected_delivery_on == date(2026, 6, 1) + timedelta(days=266)


def test_pregnancy_for_a_male_patient_is_refused_at_the_field(
    alice: Patient, nurse: User, signed_in: Any, today: date
):
    alice.sex = "male"
    alice.save(update_fields=["sex"])
    response = signed_in(nurse).post(_url("pregnancy", alice), {"conceived_on": "2026-05-01"})
    assert response.status_code == 422
    assert "recorded as male" in response.content.decode()
    assert not Pregnancy.objects.exists()


def test_a_second_ongoing_pregnancy_is_refused(alice: Patient, nurse: User, today: date):
    services.record_pregnancy(patient=alice, conceived_on=date(2026, 5, 1), by=nurse)
    with pytest.raises(TreatmentError, match="already has an ongoing pregnancy"):
        services.record_pregnancy(patient=alice, conceived_on=date(2026, 5, 8), by=nurse)


def test_delivery_before_conception_is_refused_at_the_field(
    alice: Patient, nurse: User, signed_in: Any, today: date
):
    services.record_pregnancy(patient=alice, conceived_on=date(2026, 5, 1), by=nurse)
    response = signed_in(nurse).post(
        _url("pregnancy_end", alice), {"outcome": "delivered", "ended_on": "2026-04-20"}
    )
    assert response.status_code == 422
    assert "cannot end before the conception date" in response.content.decode()


def test_delivery_with_breastfeeding_gives_the_restart_plan_and_the_timeline(
    alice: Patient, neurologist: User, start_plan: StartPlan, signed_in: Any, today: date
):
    plan = start_plan(alice, "glatiramer", date(2025, 6, 1))
    services.record_pregnancy(patient=alice, conceived_on=date(2025, 9, 10), by=neurologist)
    response = signed_in(neurologist).post(
        _url("pregnancy_end", alice),
        {"outcome": "delivered", "ended_on": "2026-06-01", "breastfeeding": "on"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.pregnancy_status == PregnancyStatus.POSTPARTUM
    page = signed_in(neurologist).get(_url("patient", alice)).content.decode()
    assert "08 Jun 2026" in page
    assert "compatible with breast-feeding" in page
    assert plan.is_current
    titles = [event.title for event in timeline_for(alice)]
    assert "Pregnancy (estimated conception)" in titles
    assert "Delivery (breast-feeding)" in titles


def test_a_therapist_sees_the_page_but_may_not_record(
    alice: Patient, therapist: User, signed_in: Any, today: date
):
    client = signed_in(therapist)
    assert client.get(_url("patient", alice)).status_code == 200
    assert client.post(_url("pregnancy", alice), {"conceived_on": "2026-05-01"}).status_code == 403
    assert not Pregnancy.objects.exists()


def test_another_teams_patient_is_not_found(
    patient_b: Patient, nurse: User, signed_in: Any, today: date
):
    assert signed_in(nurse).get(_url("patient", patient_b)).status_code == 404
