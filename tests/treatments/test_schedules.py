"""Starting a plan materialises the protocol's schedule, for every drug in the catalogue.

The expected schedule is the pure engine's (itself checked against the reference in
tests/treatments/protocols); these tests show the database rows match it after a start, a dose
or course, and a stop — and that each drug carries the duties the reference names.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import TODAY, StartPlan, dose_for
from treatments import errors
from treatments.dosing import DoseEntry
from treatments.models import ClinicSettings, DmtPlan, ItemStatus
from treatments.plans import services as plan_services
from treatments.protocols import (
    Condition,
    PlanEvents,
    Protocol,
    add_months,
    all_protocols,
    schedule,
)

pytestmark = pytest.mark.django_db

STARTED_ON = date(2026, 1, 12)
DRUG_PROTOCOLS = [p for p in all_protocols() if p.drug_key != "general" and p.authorised_in_region]
UNAUTHORISED = [p for p in all_protocols() if not p.authorised_in_region]
# Every condition that switches a rule on, except PML_HIGH_RISK (exclusive with JCV_POSITIVE).
CONDITIONS = (
    Condition.DIABETES_OR_UVEITIS.value,
    Condition.THYROID_HISTORY.value,
    Condition.CARDIAC_RISK.value,
    Condition.JCV_POSITIVE.value,
)

# What the reference (§3) says each drug must be monitored for within its first year.
REFERENCE_DUTIES: dict[str, set[str]] = {
    "interferon_beta_1a_im": {"cbc", "lft", "tsh"},
    "interferon_beta_1a_sc": {"cbc", "lft", "tsh"},
    "peginterferon_beta_1a": {"cbc", "lft", "tsh"},
    "interferon_beta_1b": {"cbc", "lft", "tsh"},
    "glatiramer": set(),
    "teriflunomide": {"alt"},
    "dimethyl_fumarate": {"cbc"},
    "diroximel_fumarate": {"cbc"},
    "monomethyl_fumarate": {"cbc"},
    "fingolimod": {"first_dose_observation", "ecg", "eye_exam", "cbc", "lft"},
    "siponimod": {"first_dose_observation", "eye_exam", "cbc", "lft"},
    "ozanimod": {"first_dose_observation", "eye_exam", "cbc", "lft"},
    "ponesimod": {"first_dose_observation", "eye_exam", "cbc", "lft"},
    "natalizumab_iv": {"jcv_antibody", "mri_brain", "cbc", "lft"},
    "natalizumab_sc": {"jcv_antibody", "mri_brain", "cbc", "lft"},
    "ocrelizumab_iv": {"immunoglobulins"},
    "ocrelizumab_sc": {"immunoglobulins"},
    "ofatumumab": {"immunoglobulins", "cbc"},
    "ublituximab": {"immunoglobulins"},
    "rituximab": {"immunoglobulins"},
    "alemtuzumab": {"cbc", "creatinine", "urinalysis", "tsh"},
    "cladribine": {"lymphocytes"},
    "mitoxantrone": {"echo_lvef", "cbc", "lft"},
    # After a transplant: counts, viral reactivation, thyroid, re-vaccination, EDSS and MRI.
    "ahsct": {"cbc", "cmv_ebv_pcr", "tsh", "revaccination", "neuro_review", "mri_brain"},
}


def _engine(protocol: Protocol, events: PlanEvents) -> set[tuple[str, date, int, date, date, date]]:
    due = schedule(
        protocol,
        events,
        horizon=add_months(TODAY, 13),
        conditions=[*CONDITIONS, Condition.FEMALE.value],
    )
    return {
        (d.rule_key, d.anchor_on, d.occurrence, d.due_on, d.window_opens_on, d.window_closes_on)
        for d in due
    }


def _rows(plan: DmtPlan, **filters: object) -> set[tuple[str, date, int, date, date, date]]:
    return set(
        plan.items.filter(**filters).values_list(
            "rule_key", "anchor_on", "occurrence", "due_on", "window_opens_on", "window_closes_on"
        )
    )


def _first_events(protocol: Protocol) -> PlanEvents:
    return PlanEvents(
        first_dose_on=STARTED_ON,
        doses=(STARTED_ON,) if not protocol.has_courses else (),
        courses=(STARTED_ON,) if protocol.has_courses else (),
    )


def _use_region(region: str) -> None:
    clinic = ClinicSettings.load()
    clinic.label_region = region
    clinic.save()


def _ids(protocol: Protocol) -> str:
    return f"{protocol.drug_key}-{protocol.label_region}"


@pytest.mark.parametrize("protocol", DRUG_PROTOCOLS, ids=_ids)
def test_starting_a_plan_materialises_the_protocol_schedule(
    protocol: Protocol, patient_a: Patient, start_plan: StartPlan
) -> None:
    _use_region(protocol.label_region)
    plan = start_plan(patient_a, protocol.drug_key, STARTED_ON, conditions=CONDITIONS)

    assert plan.protocol_version.version == protocol.version
    assert _rows(plan) == _engine(protocol, _first_events(protocol))
    investigations = set(plan.items.values_list("investigation", flat=True))
    assert REFERENCE_DUTIES[protocol.drug_key] <= investigations
    # Every row says why it is due, naming its rule's source and the pinned protocol.
    for item in plan.items.all():
        assert protocol.label in item.explanation
        assert item.window_opens_on <= item.due_on <= item.window_closes_on


@pytest.mark.parametrize(
    "protocol", [p for p in DRUG_PROTOCOLS if p.has_doses or p.has_courses], ids=_ids
)
def test_recording_a_dose_or_course_resynchronises_the_schedule(
    protocol: Protocol, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    _use_region(protocol.label_region)
    plan = start_plan(patient_a, protocol.drug_key, STARTED_ON, conditions=CONDITIONS)
    second_on = STARTED_ON + timedelta(days=120)
    kind = "course" if protocol.has_courses else "dose"

    # The pre-dose checks are not the subject here: the neurologist overrides any unmet gate.
    plan_services.record_administration(
        plan=plan,
        kind=kind,
        given_on=second_on,
        by=neurologist,
        override_reason="Pre-dose checks done elsewhere (scheduling test)",
        dose=dose_for(plan),
    )

    first = _first_events(protocol)
    events = PlanEvents(
        first_dose_on=STARTED_ON,
        doses=(*first.doses, second_on) if kind == "dose" else first.doses,
        courses=(*first.courses, second_on) if kind == "course" else first.courses,
    )
    assert _rows(plan, status__in=["scheduled", "booked"]) == _engine(protocol, events)


@pytest.mark.parametrize("protocol", DRUG_PROTOCOLS, ids=_ids)
def test_stopping_cancels_later_duties_but_keeps_those_that_survive_the_stop(
    protocol: Protocol, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    _use_region(protocol.label_region)
    plan = start_plan(patient_a, protocol.drug_key, STARTED_ON, conditions=CONDITIONS)
    stopped_on = STARTED_ON + timedelta(days=100)

    plan_services.stop_dmt_plan(
        plan=plan, stopped_on=stopped_on, reason="adverse_event", note="", by=neurologist
    )

    first = _first_events(protocol)
    events = PlanEvents(STARTED_ON, first.doses, first.courses, stopped_on=stopped_on)
    assert _rows(plan, status__in=["scheduled", "booked"]) == _engine(protocol, events)
    for item in plan.items.filter(status=ItemStatus.CANCELLED):
        assert item.due_on > stopped_on or item.rule_key not in {
            k for k, *_ in _engine(protocol, events)
        }
        assert "stopped" in item.cancelled_reason
    assert (
        not plan.items.filter(due_on__gt=stopped_on, survives_stop=False)
        .exclude(status=ItemStatus.CANCELLED)
        .exists()
    )


@pytest.mark.parametrize("protocol", UNAUTHORISED, ids=_ids)
def test_a_drug_not_authorised_in_the_clinic_region_cannot_be_planned(
    protocol: Protocol, patient_a: Patient, neurologist: User, today: date
) -> None:
    _use_region(protocol.label_region)

    with pytest.raises(errors.TreatmentError, match="not authorised"):
        plan_services.plan_dmt(patient=patient_a, drug_key=protocol.drug_key, by=neurologist)


# --- duties that outlive the stop --------------------------------------------------------------


def test_mitoxantrones_yearly_lvef_after_stopping_goes_on_after_an_early_check(
    patient_a: Patient, neurologist: User, nurse: User
) -> None:
    import time_machine

    from treatments.monitoring import services as monitoring_services
    from treatments.monitoring.services import EnteredValue
    from treatments.plans.schedule import extend_monitoring

    with time_machine.travel(date(2025, 6, 2), tick=False):
        _use_region("US")
        plan = plan_services.plan_dmt(
            patient=patient_a, drug_key="mitoxantrone", by=neurologist, planned_on=date(2024, 6, 3)
        )
        plan = plan_services.start_dmt_plan(
            plan=plan,
            started_on=date(2024, 6, 3),
            override_reason="Test history: checks done before this clinic",
            dose=DoseEntry(mg_m2=Decimal("12"), bsa_m2=Decimal("1.8")),
            by=neurologist,
        )
        plan_services.stop_dmt_plan(
            plan=plan, stopped_on=date(2025, 6, 2), reason="other", note="done", by=neurologist
        )
    [first] = plan.items.filter(rule_key="lvef_yearly_after_stop")
    assert first.due_on == date(2026, 6, 2)

    with time_machine.travel(date(2026, 3, 2), tick=False):
        # The echo is done three months early and recorded against the yearly item; the
        # 5-year blood counts are settled too, so nothing of the plan is left open.
        monitoring_services.record_result(
            patient=patient_a,
            investigation="echo_lvef",
            item=first,
            taken_on=date(2026, 3, 2),
            values=[EnteredValue("lvef", Decimal("60"), "%")],
            by=nurse,
        )
        for item in plan.items.filter(status__in=["scheduled", "booked"]):
            monitoring_services.waive_item(item=item, reason="Done at the GP (test)", by=nurse)
        assert not plan.items.filter(status__in=["scheduled", "booked"]).exists()

    # The daily sweep, once the next year comes within the 13-month horizon.
    extend_monitoring(on=date(2026, 6, 2))

    assert list(
        plan.items.filter(rule_key="lvef_yearly_after_stop", status="scheduled").values_list(
            "due_on", flat=True
        )
    ) == [date(2027, 6, 2)]


# --- fingolimod: a gap in treatment, a prolonged baseline QTc -----------------------------------


@pytest.mark.parametrize(("gap_days", "repeats"), [(15, True), (14, False)])
def test_resuming_fingolimod_after_a_gap_schedules_a_repeated_first_dose_observation(
    gap_days: int,
    repeats: bool,
    patient_a: Patient,
    start_plan: StartPlan,
    neurologist: User,
) -> None:
    _use_region("EU")
    plan = start_plan(patient_a, "fingolimod", date(2026, 3, 2))
    suspended_on = date(2026, 5, 4)  # after month 1: more than 2 weeks repeats the observation
    resumed_on = suspended_on + timedelta(days=gap_days)

    plan_services.suspend_dmt_plan(
        plan=plan, suspended_on=suspended_on, reason="Infection", by=neurologist
    )
    plan_services.resume_dmt_plan(
        plan=plan, resumed_on=resumed_on, reason="Infection treated", by=neurologist
    )

    [gap] = plan.interruptions.all()
    assert (gap.stopped_taking_on, gap.days_without_drug) == (suspended_on, gap_days)
    rows = plan.items.filter(rule_key__in=["first_dose_observation_restart", "ecg_restart"])
    if not repeats:
        assert not rows.exists()
        return
    assert {(r.rule_key, r.due_on, r.window_closes_on) for r in rows} == {
        ("first_dose_observation_restart", resumed_on, resumed_on),
        ("ecg_restart", resumed_on, resumed_on),
    }
    assert (
        "Repeat the 6-hour first-dose observation"
        in rows.get(rule_key="first_dose_observation_restart").explanation
    )


def _record_qtc(patient: Patient, qtc: str, taken_on: date, by: User) -> None:
    from treatments.monitoring import services as monitoring_services
    from treatments.monitoring.services import EnteredValue

    monitoring_services.record_result(
        patient=patient,
        investigation="ecg",
        taken_on=taken_on,
        values=[EnteredValue("qtc", Decimal(qtc), "ms")],
        by=by,
    )


@pytest.mark.parametrize(
    ("sex", "qtc", "overnight"),
    [("female", "475", True), ("female", "460", False), ("male", "460", True)],
)
def test_a_prolonged_baseline_qtc_schedules_overnight_ecg_on_the_first_dose(
    sex: str,
    qtc: str,
    overnight: bool,
    patient_a: Patient,
    start_plan: StartPlan,
    nurse: User,
) -> None:
    _use_region("US")
    patient_a.sex = sex
    patient_a.save(update_fields=["sex"])
    _record_qtc(patient_a, qtc, date(2026, 5, 28), nurse)

    plan = start_plan(patient_a, "fingolimod", date(2026, 6, 1))

    rows = plan.items.filter(rule_key="overnight_ecg_prolonged_qtc")
    assert list(rows.values_list("due_on", flat=True)) == ([date(2026, 6, 1)] if overnight else [])


def test_a_baseline_qtc_entered_after_the_start_still_schedules_the_overnight_ecg(
    patient_a: Patient, start_plan: StartPlan, nurse: User
) -> None:
    _use_region("EU")
    plan = start_plan(patient_a, "fingolimod", date(2026, 6, 12))
    assert not plan.items.filter(rule_key="overnight_ecg_prolonged_qtc").exists()

    # The pre-dose ECG of the morning of the first dose, typed in three days later.
    _record_qtc(patient_a, "480", date(2026, 6, 12), nurse)

    assert plan.items.get(rule_key="overnight_ecg_prolonged_qtc").due_on == date(2026, 6, 12)
