"""Gates stop the action: a start, dose, course or infusion that does not meet a gate of the
catalogue is refused with the rule, the value found and the source; a neurologist (never a nurse
or a therapist) may override with a written reason, which is its own audited row, on the
timeline and in the plan's history. Nothing is saved when an action is refused."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent
from clinic.permissions import CapabilityDenied
from patients.models import Patient
from tests.factories import patient_panel, patient_timeline
from tests.treatments.conftest import TODAY, StartPlan, before_a_cladribine_course
from treatments import errors
from treatments.models import DmtAdministration, DmtPlan, GateAction, GateOverride, PlanStatus
from treatments.monitoring import services as monitoring_services
from treatments.plans import gates
from treatments.plans import services as plan_services
from treatments.plans.page import gate_override_timeline

pytestmark = pytest.mark.django_db

COURSE_1 = date(2025, 6, 16)
COURSE_2 = date(2026, 6, 15)
REASON = "Lymphocytes 0.4 but relapsing; agreed at the MDT"


def _cbc(patient: Patient, taken_on: date, lymphocytes: str, by: User) -> None:
    monitoring_services.record_result(
        patient=patient,
        investigation="cbc",
        taken_on=taken_on,
        by=by,
        values=[
            monitoring_services.EnteredValue(
                "lymphocytes", Decimal(lymphocytes), "10^9/L", Decimal("1.0"), Decimal("4.0")
            )
        ],
    )


@pytest.fixture
def after_course_1(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> DmtPlan:
    return start_plan(patient_a, "cladribine", COURSE_1)


def _course_overrides() -> list[GateOverride]:
    # The fixture's start overrode the baseline checklist; these are the overrides since.
    return list(GateOverride.objects.exclude(action=GateAction.START))


def _course_2(plan: DmtPlan, by: User, reason: str = "") -> DmtAdministration:
    return plan_services.record_administration(
        plan=plan, kind="course", given_on=COURSE_2, by=by, override_reason=reason
    )


# --- refused ------------------------------------------------------------------------------------


def test_a_course_with_lymphocytes_below_the_gate_is_refused_naming_rule_value_and_source(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.4")

    with pytest.raises(gates.GateRefused) as refused:
        _course_2(after_course_1, nurse)

    assert refused.value.field == "override_reason"
    [gate] = refused.value.unmet
    assert gate.rule.startswith("Lymphocytes ≥ 0.8 ×10⁹/L before course 2")
    assert "0.4" in gate.found
    assert "12 Jun 2026" in gate.found
    assert gate.needed.startswith("Lymphocytes (absolute) ≥ 0.8 ×10⁹/L")
    assert gate.source == "EU-SmPC §4.2/§4.4"
    assert "Only a neurologist can override" in refused.value.message
    # Nothing was saved: no course, no override, no audit entry of either.
    assert after_course_1.administrations.count() == 1
    assert not _course_overrides()


def test_a_missing_check_is_refused_as_no_result(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    with pytest.raises(gates.GateRefused) as refused:
        _course_2(after_course_1, nurse)

    found = {gate.rule.rsplit(" (", 1)[0]: gate.found for gate in refused.value.unmet}
    assert found["Lymphocytes ≥ 0.8 ×10⁹/L before course 2 (delay up to 6 months otherwise)"] == (
        "no result"
    )
    assert found["Liver tests before each course"] == "no result"


def test_a_nurse_cannot_override_even_with_a_reason(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    with pytest.raises(gates.GateRefused, match="Only a neurologist can override"):
        _course_2(after_course_1, nurse, reason=REASON)

    assert after_course_1.administrations.count() == 1
    assert not _course_overrides()


def test_a_therapist_cannot_override(
    after_course_1: DmtPlan, patient_a: Patient, therapist: User
) -> None:
    # A therapist may not record a course at all (the permission table), so the refusal comes
    # before any gate is looked at.
    with pytest.raises(CapabilityDenied):
        _course_2(after_course_1, therapist, reason=REASON)


def test_a_neurologist_without_a_reason_is_asked_for_one(
    after_course_1: DmtPlan, neurologist: User
) -> None:
    with pytest.raises(gates.GateRefused, match="write your reason for overriding"):
        _course_2(after_course_1, neurologist)


def test_an_override_reason_too_short_to_mean_anything_is_refused(
    after_course_1: DmtPlan, neurologist: User
) -> None:
    with pytest.raises(errors.TreatmentError, match="at least 10 characters") as refused:
        _course_2(after_course_1, neurologist, reason="  ok  ")

    assert refused.value.field == "override_reason"
    assert after_course_1.administrations.count() == 1


def test_a_result_taken_after_the_dose_does_not_open_its_gate(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, neurologist: User
) -> None:
    # The gate is judged on the day the course is given, whenever it is typed in.
    given_on = COURSE_2 - timedelta(days=5)
    before_a_cladribine_course(patient_a, given_on + timedelta(days=1), nurse, lymphocytes="1.2")

    with pytest.raises(gates.GateRefused):
        plan_services.record_administration(
            plan=after_course_1, kind="course", given_on=given_on, by=nurse
        )


# --- met ----------------------------------------------------------------------------------------


def test_a_course_meeting_every_gate_needs_no_override(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.9")

    given = _course_2(after_course_1, nurse)

    assert given.kind == "course"
    assert not _course_overrides()


# --- overridden -----------------------------------------------------------------------------------


def test_a_neurologist_overrides_with_a_reason_each_gate_its_own_audited_row(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, neurologist: User
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.4")

    given = _course_2(after_course_1, neurologist, reason=f"  {REASON}  ")

    [override] = _course_overrides()
    assert (override.administration, override.plan, override.patient) == (
        given,
        after_course_1,
        patient_a,
    )
    assert override.action == GateAction.COURSE
    assert override.reason == REASON
    assert override.overridden_by == neurologist
    assert "0.4" in override.value_seen
    assert override.source == "EU-SmPC §4.2/§4.4"
    event = AccessEvent.objects.get(
        object_type="treatments.gateoverride", object_id=str(override.pk)
    )
    assert event.user == neurologist
    assert event.patient_id == patient_a.pk
    assert event.detail.startswith("gate overridden (treatment course): Lymphocytes ≥ 0.8")
    assert AccessEvent.objects.filter(
        object_type="treatments.dmtadministration",
        object_id=str(given.pk),
        detail="course recorded with gate override",
    ).exists()


def test_the_override_is_on_the_patients_timeline(
    after_course_1: DmtPlan,
    patient_a: Patient,
    nurse: User,
    neurologist: User,
    signed_in: Any,
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.4")
    _course_2(after_course_1, neurologist, reason=REASON)

    [event] = [e for e in gate_override_timeline(patient_a) if e.on == COURSE_2]
    assert event.title == "Cladribine tablets: gate overridden (treatment course)"
    assert REASON in event.detail
    assert REASON in patient_timeline(signed_in(nurse), patient_a)


def test_overridden_baseline_checks_stay_open_to_chase_until_done(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)
    plan_services.start_dmt_plan(
        plan=plan, started_on=TODAY, override_reason="Relapsing fast; bloods sent", by=neurologist
    )
    plan.refresh_from_db()
    chased = {row.investigation for row in gates.overrides_to_chase(plan)}
    assert {"lft", "cbc", "blood_pressure", "pregnancy_test"} <= chased

    _cbc(patient_a, TODAY, "1.5", nurse)
    plan_services.tick_baseline_check(
        plan=plan, investigation="blood_pressure", done_on=TODAY, note="", by=nurse
    )

    still = {row.investigation for row in gates.overrides_to_chase(plan)}
    assert "cbc" not in still
    assert "blood_pressure" not in still
    assert "lft" in still


def test_a_start_meeting_every_gate_is_not_an_override(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="glatiramer", by=neurologist)
    for row in plan_services.baseline_status(plan=plan, on=TODAY):
        plan_services.tick_baseline_check(
            plan=plan, investigation=row.check.investigation, done_on=TODAY, note="", by=nurse
        )

    plan_services.start_dmt_plan(plan=plan, started_on=TODAY, by=nurse)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert not GateOverride.objects.exists()
    assert gates.overrides_to_chase(plan) == []


# --- pages --------------------------------------------------------------------------------------


def test_the_plan_page_shows_why_before_the_nurse_tries(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.4")

    page = signed_in(nurse).get(after_course_1.get_absolute_url()).content.decode()

    assert "Gates not met for the next treatment course today" in page
    assert "Lymphocytes ≥ 0.8 ×10⁹/L before course 2" in page
    assert "only a neurologist can override a gate" in page
    assert 'name="override_reason"' not in page  # not offered to a nurse


def test_a_refused_course_shows_the_gates_at_the_form_and_saves_nothing(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.4")
    client = signed_in(nurse)

    # Even a crafted override reason from a nurse is refused.
    response = client.post(
        after_course_1.get_absolute_url() + "doses/",
        {"kind": "course", "given_on": COURSE_2.isoformat(), "override_reason": REASON},
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "Refused: this treatment course does not meet 1 gate of the catalogue" in body
    assert "Only a neurologist can override a gate" in body
    assert "Source: EU-SmPC §4.2/§4.4" in body
    assert after_course_1.administrations.count() == 1
    assert not _course_overrides()


def test_a_neurologist_overrides_through_the_page_and_the_history_shows_it(
    after_course_1: DmtPlan, patient_a: Patient, nurse: User, neurologist: User, signed_in: Any
) -> None:
    before_a_cladribine_course(patient_a, COURSE_2 - timedelta(days=3), nurse, lymphocytes="0.4")
    client = signed_in(neurologist)
    url = after_course_1.get_absolute_url()
    assert 'name="override_reason"' in client.get(url).content.decode()

    refused = client.post(url + "doses/", {"kind": "course", "given_on": COURSE_2.isoformat()})
    assert refused.status_code == 422
    assert "write your reason for overriding them" in refused.content.decode()

    done = client.post(
        url + "doses/",
        {"kind": "course", "given_on": COURSE_2.isoformat(), "override_reason": REASON},
    )
    assert done.status_code == 302
    history = client.get(url).content.decode()
    assert "Gate overridden" in history
    assert REASON in history
    assert "Ada Reyes" in history


def test_the_patient_pages_treatment_panel_lists_what_is_still_to_chase(
    eu_clinic: Any, patient_a: Patient, neurologist: User, nurse: User, signed_in: Any, today: date
) -> None:
    plan = plan_services.plan_dmt(patient=patient_a, drug_key="teriflunomide", by=neurologist)
    plan_services.start_dmt_plan(
        plan=plan, started_on=TODAY, override_reason="Relapsing fast; bloods sent", by=neurologist
    )

    panel = patient_panel(signed_in(nurse), patient_a, "treatments-panel")

    assert "Overridden at the start, still to chase:" in panel
    assert "ALT, AST and bilirubin within 6 months before starting" in panel
    assert "Full blood count with differential" in panel
