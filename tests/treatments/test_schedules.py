"""Starting a plan materialises the protocol's schedule, for every drug in the catalogue.

The expected schedule is the pure engine's (itself checked against the reference in
tests/treatments/protocols); these tests show the database rows match it after a start, a dose
or course, and a stop — and that each drug carries the duties the reference names.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import TODAY, StartPlan, dose_for
from treatments import errors
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
