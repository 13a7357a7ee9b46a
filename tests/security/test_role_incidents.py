"""The four incidents of issue #13 (finding 2), each refused now, through the page and through
the service, and the buttons that invited them gone.

1. A psychologist resolved a nurse's abnormal-result alert.
2. An occupational therapist snoozed an overdue-monitoring alert for three weeks.
3. A nurse started natalizumab with the baseline checks overridden.
4. A therapist created a patient, and edited the whole record (allergies, the named neurologist).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import CareTeam, Discipline, Role, User
from clinic.permissions import CapabilityDenied
from patients.models import Patient
from patients.records import services as record_services
from tests.conftest import sign_in
from tests.factories import UserFactory
from treatments.alerts import services as alerts
from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus, DmtPlan, PlanStatus
from treatments.plans import services as plan_services


@pytest.fixture
def psychologist(team_a: CareTeam) -> User:
    return UserFactory(
        username="psych.moss",
        role=Role.THERAPIST,
        discipline=Discipline.PSYCHOLOGY,
        teams=[team_a],
    )


@pytest.fixture
def occupational_therapist(team_a: CareTeam) -> User:
    return UserFactory(
        username="ot.olsen",
        role=Role.THERAPIST,
        discipline=Discipline.OCCUPATIONAL_THERAPY,
        teams=[team_a],
    )


def raise_alert(patient: Patient, kind: str, key: str) -> Alert:
    alerts.raise_alerts(
        [
            alerts.AlertSpec(
                patient_id=patient.pk,
                kind=kind,
                grade=AlertGrade.WARNING,
                condition_key=key,
                title="ALT 3.4 × ULN" if kind == AlertKind.ABNORMAL_RESULT else "ALT overdue",
            )
        ]
    )
    return Alert.objects.get(condition_key=key)


# --- 1. A psychologist resolving a nurse's abnormal-result alert ------------------------------


@pytest.fixture
def abnormal_result_alert(patient_a: Patient, nurse: User) -> Alert:
    alert = raise_alert(patient_a, AlertKind.ABNORMAL_RESULT, "abnormal:result:1:rule:alt")
    assert alert.owner == nurse  # routed to the patient's nurse, as in the incident
    return alert


def test_a_psychologist_cannot_resolve_a_nurses_abnormal_result_alert(
    signed_in, psychologist, abnormal_result_alert
):
    client = signed_in(psychologist)
    url = reverse("alerts:resolve", args=[abnormal_result_alert.pk])

    assert client.get(url).status_code == 403  # not even the form
    response = client.post(url, {"note": "Discussed in clinic"})

    assert response.status_code == 403
    assert "Only neurologists and MS nurses may resolve a safety alert." in (
        response.content.decode()
    )
    abnormal_result_alert.refresh_from_db()
    assert abnormal_result_alert.status == AlertStatus.OPEN
    assert abnormal_result_alert.resolved_by is None


def test_the_alert_service_refuses_the_psychologist_too(psychologist, abnormal_result_alert):
    with pytest.raises(CapabilityDenied):
        alerts.resolve(alert=abnormal_result_alert, by=psychologist, note="Discussed in clinic")
    abnormal_result_alert.refresh_from_db()
    assert abnormal_result_alert.status == AlertStatus.OPEN


def test_the_nurse_still_resolves_her_abnormal_result_alert(
    signed_in, nurse, abnormal_result_alert
):
    response = signed_in(nurse).post(
        reverse("alerts:resolve", args=[abnormal_result_alert.pk]), {"note": "Repeat LFT booked"}
    )
    assert response.status_code == 302
    abnormal_result_alert.refresh_from_db()
    assert abnormal_result_alert.status == AlertStatus.RESOLVED


def test_the_inbox_offers_a_therapist_no_buttons_on_a_safety_alert(
    signed_in, psychologist, nurse, abnormal_result_alert
):
    team_view = reverse("alerts:inbox") + "?scope=team"
    body = signed_in(psychologist).get(team_view).content.decode()
    assert "ALT 3.4" in body  # the therapist still sees the team's alert
    assert abnormal_result_alert.resolve_url not in body
    assert abnormal_result_alert.snooze_url not in body
    assert abnormal_result_alert.acknowledge_url not in body
    assert "Your role does not act on safety alerts." in body

    body = sign_in(Client(), nurse).get(team_view).content.decode()
    assert abnormal_result_alert.resolve_url in body


# --- 2. An occupational therapist snoozing an overdue-monitoring alert for three weeks --------


def test_an_occupational_therapist_cannot_snooze_an_overdue_monitoring_alert(
    signed_in, occupational_therapist, patient_a
):
    alert = raise_alert(patient_a, AlertKind.OVERDUE_MONITORING, "overdue:item:1")
    three_weeks = timezone.localdate() + timedelta(weeks=3)

    response = signed_in(occupational_therapist).post(
        reverse("alerts:snooze", args=[alert.pk]),
        {"until": three_weeks.isoformat(), "reason": "Patient on holiday"},
    )

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert alert.snoozed_until is None
    with pytest.raises(CapabilityDenied, match="snooze a safety alert"):
        alerts.snooze(
            alert=alert,
            by=occupational_therapist,
            until=timezone.now() + timedelta(weeks=3),
            reason="Patient on holiday",
        )


def test_a_therapist_still_chases_their_own_overdue_referral(
    signed_in, occupational_therapist, patient_a
):
    """Referral alerts go to the referrer, a therapist too: those stay theirs to work."""
    alert = raise_alert(patient_a, AlertKind.REFERRAL_OVERDUE, "referral_overdue:referral:1")
    response = signed_in(occupational_therapist).post(
        reverse("alerts:snooze", args=[alert.pk]),
        {"until": (timezone.localdate() + timedelta(days=5)).isoformat(), "reason": "Chased"},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.SNOOZED


# --- 3. A nurse starting natalizumab with the baseline checks overridden ----------------------


@pytest.fixture
def natalizumab_planned(patient_a: Patient, neurologist: User) -> DmtPlan:
    # Planned today with nothing done: JCV, MRI and bloods are all outstanding.
    return plan_services.plan_dmt(patient=patient_a, drug_key="natalizumab_iv", by=neurologist)


def start_url(plan: DmtPlan) -> str:
    return plan.get_absolute_url() + "start/"


def test_a_nurse_cannot_start_natalizumab_over_outstanding_baseline_checks(
    signed_in, nurse, natalizumab_planned
):
    response = signed_in(nurse).post(
        start_url(natalizumab_planned),
        {"started_on": timezone.localdate().isoformat(), "override_reason": "Bloods at GP"},
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "Baseline check outstanding" in body
    assert "Only a neurologist can override a gate" in body
    natalizumab_planned.refresh_from_db()
    assert natalizumab_planned.status == PlanStatus.PLANNED
    assert natalizumab_planned.baseline_override_reason == ""


def test_the_plan_service_refuses_the_nurses_override(nurse, natalizumab_planned):
    from treatments.errors import TreatmentError

    with pytest.raises(TreatmentError, match="Only a neurologist can override a gate"):
        plan_services.start_dmt_plan(
            plan=natalizumab_planned,
            started_on=timezone.localdate(),
            override_reason="Bloods at GP",
            by=nurse,
        )
    natalizumab_planned.refresh_from_db()
    assert natalizumab_planned.status == PlanStatus.PLANNED


def test_a_neurologist_may_start_natalizumab_over_outstanding_checks_with_a_reason(
    signed_in, neurologist, natalizumab_planned
):
    response = signed_in(neurologist).post(
        start_url(natalizumab_planned),
        {"started_on": timezone.localdate().isoformat(), "override_reason": "Bloods at GP"},
    )

    assert response.status_code == 302
    natalizumab_planned.refresh_from_db()
    assert natalizumab_planned.status == PlanStatus.ACTIVE
    assert natalizumab_planned.baseline_override_by == neurologist


def test_the_nurse_is_not_offered_the_override(signed_in, nurse, neurologist, natalizumab_planned):
    body = signed_in(nurse).get(natalizumab_planned.get_absolute_url()).content.decode()
    assert 'name="override_reason"' not in body
    assert "A neurologist must start it, with a written reason" in body

    neurologists_page = sign_in(Client(), neurologist).get(natalizumab_planned.get_absolute_url())
    assert 'name="override_reason"' in neurologists_page.content.decode()


# --- 4. A therapist creating a patient or editing the record ----------------------------------


def new_patient_form(team: CareTeam, neurologist: User) -> dict[str, str]:
    return {
        "mrn": "ZZZ00009",
        "given_name": "Cara",
        "family_name": "Cole",
        "date_of_birth": "1980-04-02",
        "sex": "female",
        "status": "active",
        "care_team": str(team.pk),
        "neurologist": str(neurologist.pk),
        "pregnancy_status": "not_applicable",
        "smoking_status": "unknown",
    }


def test_a_therapist_cannot_create_a_patient(signed_in, therapist, team_a, neurologist):
    client = signed_in(therapist)
    assert client.get(reverse("patients:create")).status_code == 403
    response = client.post(reverse("patients:create"), new_patient_form(team_a, neurologist))

    assert response.status_code == 403
    assert "Only neurologists and MS nurses may create a patient record." in (
        response.content.decode()
    )
    assert not Patient.objects.filter(mrn="ZZZ00009").exists()


def test_a_therapist_cannot_edit_the_record(signed_in, therapist, patient_a, nurse):
    client = signed_in(therapist)
    url = reverse("patients:edit", args=[patient_a.external_id])
    assert client.get(url).status_code == 403
    data = new_patient_form(patient_a.care_team, nurse) | {
        "mrn": patient_a.mrn,
        "allergies": "Penicillin",
    }

    response = client.post(url, data)

    assert response.status_code == 403
    patient_a.refresh_from_db()
    assert patient_a.allergies == ""
    assert patient_a.given_name == "Alice"


def test_the_record_services_refuse_a_therapist(therapist, patient_a):
    patient_a.allergies = "Penicillin"
    with pytest.raises(CapabilityDenied):
        record_services.update_patient(patient=patient_a, changed=["allergies"], by=therapist)
    with pytest.raises(CapabilityDenied):
        record_services.create_patient(
            patient=Patient(mrn="ZZZ00010", care_team=patient_a.care_team), by=therapist
        )
    patient_a.refresh_from_db()
    assert patient_a.allergies == ""
    assert not Patient.objects.filter(mrn="ZZZ00010").exists()


def test_a_therapist_is_offered_neither_new_patient_nor_edit(signed_in, therapist, patient_a):
    client = signed_in(therapist)
    listing = client.get(reverse("patients:list")).content.decode()
    assert reverse("patients:create") not in listing
    page = client.get(patient_a.get_absolute_url()).content.decode()
    assert "Alice" in page  # the therapist still reads the record
    assert reverse("patients:edit", args=[patient_a.external_id]) not in page


def test_a_nurse_still_creates_a_patient(signed_in, nurse, team_a, neurologist):
    client = signed_in(nurse)
    assert reverse("patients:create") in client.get(reverse("patients:list")).content.decode()
    response = client.post(reverse("patients:create"), new_patient_form(team_a, neurologist))
    assert response.status_code == 302
    assert Patient.objects.filter(mrn="ZZZ00009").exists()
