"""The DMT plan lifecycle: plan, baseline checklist, start (or override), doses, suspend,
resume, stop, switch with washout guidance."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent
from patients.models import Patient
from tests.treatments.conftest import TODAY, StartPlan
from treatments import errors
from treatments.models import DmtPlan, PlanStatus
from treatments.monitoring import services as monitoring_services
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db


def test_a_second_current_plan_is_refused_with_a_clear_message(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 2, 2))
    second = plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)

    with pytest.raises(errors.TreatmentError, match="already has an active or suspended DMT"):
        plan_services.start_dmt_plan(
            plan=second, started_on=TODAY, override_reason="test", by=neurologist
        )

    assert DmtPlan.objects.current().filter(patient=patient_a).count() == 1


def test_the_database_refuses_two_current_plans_even_without_the_service(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    from django.db import IntegrityError

    first = start_plan(patient_a, "teriflunomide", date(2026, 2, 2))
    with pytest.raises(IntegrityError):
        DmtPlan.objects.create(
            patient=patient_a,
            protocol_version=first.protocol_version,
            drug_key="teriflunomide",
            drug_name="x",
            status=PlanStatus.ACTIVE,
            planned_on=TODAY,
            started_on=TODAY,
            created_by=neurologist,
        )


def test_starting_with_baseline_checks_outstanding_needs_a_reason(
    eu_clinic: object, patient_a: Patient, neurologist: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)

    with pytest.raises(errors.TreatmentError) as refused:
        plan_services.start_dmt_plan(plan=plan, started_on=TODAY, by=neurologist)

    assert refused.value.field == "override_reason"
    assert "does not meet" in refused.value.message
    assert any("Baseline check outstanding" in line for line in refused.value.details)


def test_a_baseline_override_is_recorded_on_the_plan_and_audited(
    eu_clinic: object, patient_a: Patient, neurologist: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)

    plan_services.start_dmt_plan(
        plan=plan,
        started_on=TODAY,
        override_reason="Relapsing fast; bloods sent today",
        by=neurologist,
    )

    plan.refresh_from_db()
    assert plan.baseline_override_reason == "Relapsing fast; bloods sent today"
    assert plan.baseline_override_by == neurologist
    assert AccessEvent.objects.filter(
        patient=patient_a, detail="started with baseline override", user=neurologist
    ).exists()


def test_recorded_results_and_ticks_complete_the_baseline_checklist(
    eu_clinic: object, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="glatiramer", by=neurologist)
    for row in plan_services.baseline_status(plan=plan, on=TODAY):
        plan_services.tick_baseline_check(
            plan=plan, investigation=row.check.investigation, done_on=TODAY, note="", by=nurse
        )

    assert all(r.is_satisfied for r in plan_services.baseline_status(plan=plan, on=TODAY))
    plan_services.start_dmt_plan(plan=plan, started_on=TODAY, by=nurse)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert not plan.has_override


def test_a_panel_result_satisfies_the_baseline_check_of_its_component(
    eu_clinic: object, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)
    monitoring_services.record_result(
        patient=patient_a,
        investigation="lft",
        taken_on=TODAY - timedelta(days=10),
        by=nurse,
        values=[
            monitoring_services.EnteredValue(
                "alt", Decimal("25"), "U/L", Decimal("0"), Decimal("40")
            )
        ],
    )

    rows = {r.check.investigation: r for r in plan_services.baseline_status(plan=plan, on=TODAY)}

    satisfied = [key for key, row in rows.items() if row.satisfied_by == "result"]
    assert satisfied, "an LFT panel counts for the ALT / LFT checks"


def test_a_start_before_the_plan_was_made_is_refused(
    eu_clinic: object, patient_a: Patient, neurologist: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)

    with pytest.raises(errors.TreatmentError, match="before the plan was made") as refused:
        plan_services.start_dmt_plan(
            plan=plan, started_on=TODAY - timedelta(days=3), override_reason="x", by=neurologist
        )
    assert refused.value.field == "started_on"


def test_suspend_and_resume_need_reasons_and_keep_the_history(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    plan = start_plan(patient_a, "dimethyl_fumarate", date(2026, 1, 5))

    with pytest.raises(errors.TreatmentError):
        plan_services.suspend_dmt_plan(plan=plan, suspended_on=TODAY, reason=" ", by=neurologist)
    plan_services.suspend_dmt_plan(
        plan=plan, suspended_on=TODAY, reason="Lymphopenia", by=neurologist
    )
    assert plan.status == PlanStatus.SUSPENDED
    plan_services.resume_dmt_plan(plan=plan, resumed_on=TODAY, reason="Recovered", by=neurologist)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert "Lymphopenia" in plan.suspend_reason
    assert "Recovered" in plan.suspend_reason


def test_stopping_for_other_reasons_needs_details(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    plan = start_plan(patient_a, "dimethyl_fumarate", date(2026, 1, 5))

    with pytest.raises(errors.TreatmentError) as refused:
        plan_services.stop_dmt_plan(plan=plan, stopped_on=TODAY, reason="other", by=neurologist)

    assert refused.value.field == "note"


def test_switching_stops_the_old_drug_and_plans_the_new_one_with_washout_guidance(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    fingolimod = start_plan(patient_a, "fingolimod", date(2026, 1, 5))

    natalizumab = plan_services.switch_dmt_plan(
        plan=fingolimod,
        stopped_on=TODAY,
        reason="lack_of_efficacy",
        to_drug_key="natalizumab_iv",
        by=neurologist,
    )

    fingolimod.refresh_from_db()
    assert fingolimod.status == PlanStatus.STOPPED
    assert natalizumab.switched_from == fingolimod
    assert natalizumab.is_planned
    guidance = plan_services.washout_for(natalizumab)
    assert guidance is not None
    assert guidance.min_days > 0


def test_a_start_inside_the_washout_is_warned_about(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    teriflunomide = start_plan(patient_a, "teriflunomide", date(2026, 1, 5))
    ocrelizumab = plan_services.switch_dmt_plan(
        plan=teriflunomide,
        stopped_on=TODAY,
        reason="lack_of_efficacy",
        to_drug_key="ocrelizumab_iv",
        by=neurologist,
    )
    guidance = plan_services.washout_for(ocrelizumab)
    assert guidance is not None
    assert guidance.min_days > 0

    too_soon = plan_services.washout_warning(plan=ocrelizumab, starts_on=TODAY)
    in_time = plan_services.washout_warning(
        plan=ocrelizumab, starts_on=TODAY + timedelta(days=guidance.min_days)
    )

    assert "washout is at least" in too_soon
    assert in_time == ""


def test_doses_in_the_future_or_twice_on_a_day_are_refused(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, nurse: User
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 5, 18))

    with pytest.raises(errors.TreatmentError, match="future"):
        plan_services.record_administration(
            plan=plan, kind="dose", given_on=TODAY + timedelta(days=1), by=nurse
        )
    plan_services.record_administration(plan=plan, kind="dose", given_on=TODAY, by=nurse)
    with pytest.raises(errors.TreatmentError, match="already recorded"):
        plan_services.record_administration(plan=plan, kind="dose", given_on=TODAY, by=nurse)


# --- pages ----------------------------------------------------------------------------------


def test_a_neurologist_plans_and_starts_a_drug_through_the_pages(
    eu_clinic: object, patient_a: Patient, neurologist: User, signed_in: Any, today: date
) -> None:
    client = signed_in(neurologist)
    response = client.post(
        f"/treatments/patients/{patient_a.external_id}/plans/new/", {"drug_key": "teriflunomide"}
    )
    plan = DmtPlan.objects.get(patient=patient_a)
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()

    page = client.get(plan.get_absolute_url())
    assert b"Baseline checklist" in page.content
    assert b"Outstanding" in page.content

    refused = client.post(plan.get_absolute_url() + "start/", {"started_on": "2026-06-15"})
    assert refused.status_code == 422
    assert b"Baseline check outstanding" in refused.content

    started = client.post(
        plan.get_absolute_url() + "start/",
        {"started_on": "2026-06-15", "override_reason": "Bloods at GP last week"},
    )
    assert started.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    detail = client.get(plan.get_absolute_url())
    assert b"Bloods at GP last week" in detail.content
    assert b"Monitoring schedule" in detail.content


def test_a_second_start_through_the_page_shows_the_message_and_keeps_the_input(
    eu_clinic: object,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
    signed_in: Any,
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 2, 2))
    second = plan_services.plan_dmt(patient=patient_a, drug_key="fingolimod", by=neurologist)
    client = signed_in(neurologist)

    response = client.post(
        second.get_absolute_url() + "start/",
        {"started_on": "2026-06-15", "override_reason": "Switch agreed in clinic"},
    )

    assert response.status_code == 422
    assert b"already has an active or suspended DMT" in response.content
    assert b"Switch agreed in clinic" in response.content


def test_a_nurse_cannot_plan_a_drug(patient_a: Patient, nurse: User, signed_in: Any) -> None:
    response = signed_in(nurse).get(f"/treatments/patients/{patient_a.external_id}/plans/new/")
    assert response.status_code == 403


def test_an_upgraded_catalogue_serves_new_plans_and_leaves_running_plans_on_theirs(
    eu_clinic: object,
    patient_a: Patient,
    patient_b: Patient,
    start_plan: StartPlan,
    other_neurologist: User,
) -> None:
    from datetime import UTC, datetime

    from treatments.catalogue.services import load_catalogue
    from treatments.models import ProtocolVersion

    # A database from before 2026.2: ofatumumab 2026.1 had no immunoglobulins after stopping.
    current = ProtocolVersion.objects.get(drug_key="ofatumumab", region="EU")
    data = dict(current.data)
    data["version"] = "2026.1"
    data["monitoring_rules"] = [
        r for r in data["monitoring_rules"] if r["key"] != "immunoglobulins_after_stop"
    ]
    old = ProtocolVersion.objects.create(
        drug_key="ofatumumab",
        drug_name=current.drug_name,
        region="EU",
        version="2026.1",
        effective_from=current.effective_from,
        data=data,
    )
    ProtocolVersion.objects.filter(pk=old.pk).update(loaded_at=datetime(2026, 1, 1, tzinfo=UTC))
    running = DmtPlan.objects.create(
        patient=patient_b,
        protocol_version=old,
        drug_key="ofatumumab",
        drug_name=old.drug_name,
        planned_on=date(2026, 1, 5),
        created_by=other_neurologist,
    )

    assert load_catalogue() == 0  # 2026.2 is on file already; nothing is rewritten
    new = start_plan(patient_a, "ofatumumab", date(2026, 2, 2))

    assert new.protocol_version.version == "2026.2"
    assert new.protocol_version.protocol.rule("immunoglobulins_after_stop")
    running.refresh_from_db()
    assert running.protocol_version == old
