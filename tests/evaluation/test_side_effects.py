"""Side-effect reports: routing by grade and seriousness, form messages, the page, its scope,
its audit trail and its query count."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent, Action
from patients.models import Patient
from tests.factories import patient_panel, patient_timeline
from tests.treatments.conftest import StartPlan
from treatments.models import Alert, AlertGrade, AlertKind, SideEffectReport
from treatments.safety import services as safety_services

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)


@pytest.fixture
def on_teriflunomide(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "teriflunomide", date(2026, 3, 2))


def report(patient: Patient, plan: Any, by: User, **changes: Any) -> SideEffectReport:
    fields: dict[str, Any] = {
        "effect": "Hair thinning",
        "effect_other": "",
        "onset_on": DAY - timedelta(days=3),
        "ctcae_grade": 1,
        "serious": False,
        "action_taken": "none",
        "notes": "",
    }
    fields.update(changes)
    return safety_services.report_side_effect(patient=patient, plan=plan, by=by, **fields)


def url(patient: Patient) -> str:
    return reverse("safety:side_effects", kwargs={"external_id": patient.external_id})


@pytest.mark.parametrize(
    ("grade", "serious", "expected"),
    [
        (1, False, AlertGrade.INFO),
        (2, False, AlertGrade.WARNING),
        (3, False, AlertGrade.CRITICAL),
        (4, False, AlertGrade.CRITICAL),
        (1, True, AlertGrade.CRITICAL),
    ],
)
def test_the_alert_grade_follows_ctcae_grade_and_seriousness(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, grade: int, serious: bool, expected: str
) -> None:
    saved = report(patient_a, on_teriflunomide, nurse, ctcae_grade=grade, serious=serious)

    alert = Alert.objects.get(condition_key=f"side_effect:report:{saved.pk}")
    assert alert.kind == AlertKind.SIDE_EFFECT
    assert alert.grade == expected
    assert alert.ctcae_grade == grade


def test_every_side_effect_alert_goes_to_the_neurologist(
    on_teriflunomide: Any, patient_a: Patient, nurse: User
) -> None:
    report(patient_a, on_teriflunomide, nurse, ctcae_grade=1)
    report(patient_a, on_teriflunomide, nurse, ctcae_grade=3, effect="Raised liver enzymes")

    assert {a.owner for a in Alert.objects.filter(kind=AlertKind.SIDE_EFFECT)} == {
        patient_a.neurologist
    }


def test_a_future_onset_is_refused_by_the_service(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, today: date
) -> None:
    with pytest.raises(safety_services.SafetyError, match="future"):
        report(patient_a, on_teriflunomide, nurse, onset_on=today + timedelta(days=1))


def test_the_page_lists_reports_with_the_drugs_listed_side_effects(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    report(patient_a, on_teriflunomide, nurse, notes="Started after month 2")

    body = signed_in(nurse).get(url(patient_a)).content.decode()

    assert "Hair thinning" in body
    assert "Started after month 2" in body
    # The drug's listed side effects are the choices of the form.
    for listed in on_teriflunomide.protocol_version.protocol.side_effects:
        assert f'<option value="{listed}"' in body


def test_a_nurse_reports_a_side_effect_through_the_form(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    response = signed_in(nurse).post(
        url(patient_a),
        {
            "effect": "",
            "effect_other": "Severe rash with blisters",
            "onset_on": today.isoformat(),
            "ctcae_grade": "3",
            "action_taken": "drug_stopped",
            "notes": "",
        },
    )

    assert response.status_code == 302
    saved = SideEffectReport.objects.get(patient=patient_a)
    assert saved.plan == on_teriflunomide
    assert saved.reported_by == nurse
    assert Alert.objects.get(kind=AlertKind.SIDE_EFFECT).grade == AlertGrade.CRITICAL
    assert AccessEvent.objects.filter(
        patient=patient_a, action=Action.CREATE, object_id=str(saved.pk)
    ).exists()


def _post(client: Any, patient: Patient, **changes: str) -> Any:
    data = {
        "effect": "",
        "effect_other": "Headache",
        "onset_on": DAY.isoformat(),
        "ctcae_grade": "1",
        "action_taken": "none",
        "notes": "Keeps what was typed",
    }
    data.update(changes)
    return client.post(url(patient), data)


def test_a_future_onset_is_shown_next_to_the_field_and_nothing_typed_is_lost(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    response = _post(signed_in(nurse), patient_a, onset_on=(today + timedelta(days=2)).isoformat())

    assert response.status_code == 422
    body = response.content.decode()
    assert "The onset date cannot be in the future." in body
    assert "Keeps what was typed" in body
    assert not SideEffectReport.objects.exists()


@pytest.mark.parametrize("grade", ["0", "6"])
def test_a_grade_outside_1_to_5_is_refused_with_a_message(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, signed_in: Any, today: date, grade: str
) -> None:
    response = _post(signed_in(nurse), patient_a, ctcae_grade=grade)

    assert response.status_code == 422
    assert "The CTCAE grade is 1 to 5." in response.content.decode()
    assert not SideEffectReport.objects.exists()


def test_a_report_needs_a_listed_effect_or_a_description(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    response = _post(signed_in(nurse), patient_a, effect_other="")

    assert response.status_code == 422
    assert "Choose a listed side effect or describe it." in response.content.decode()


def test_a_therapist_sees_reports_but_cannot_file_one(
    on_teriflunomide: Any, patient_a: Patient, therapist: User, signed_in: Any, today: date
) -> None:
    client = signed_in(therapist)
    assert client.get(url(patient_a)).status_code == 200
    assert _post(client, patient_a).status_code == 403


@pytest.mark.parametrize("name", ["safety:side_effects", "safety:pml"])
def test_another_team_gets_404_and_no_patient_data(
    name: str, patient_a: Patient, other_neurologist: User, signed_in: Any
) -> None:
    response = signed_in(other_neurologist).get(
        reverse(name, kwargs={"external_id": patient_a.external_id})
    )

    assert response.status_code == 404
    body = response.content.decode()
    assert patient_a.family_name not in body
    assert patient_a.mrn not in body


def test_viewing_the_reports_is_audited(
    patient_a: Patient, neurologist: User, signed_in: Any
) -> None:
    signed_in(neurologist).get(url(patient_a))

    assert AccessEvent.objects.filter(
        patient=patient_a, user=neurologist, action=Action.VIEW
    ).exists()


def test_the_page_query_count_does_not_grow_with_reports(
    on_teriflunomide: Any,
    patient_a: Patient,
    nurse: User,
    signed_in: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = signed_in(nurse)
    report(patient_a, on_teriflunomide, nurse)
    with django_assert_max_num_queries(30) as few:
        assert client.get(url(patient_a)).status_code == 200
    for days in range(20):
        report(patient_a, on_teriflunomide, nurse, onset_on=DAY - timedelta(days=days))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(patient_a)).status_code == 200


def test_reports_appear_on_the_patient_timeline_and_panel(
    on_teriflunomide: Any, patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    report(patient_a, on_teriflunomide, nurse, effect="Hair thinning", ctcae_grade=2)

    client = signed_in(nurse)
    timeline = patient_timeline(client, patient_a)
    panel = patient_panel(client, patient_a, "safety-panel")

    assert "Side effect on Teriflunomide: Hair thinning" in timeline
    assert "Safety: dose gates, PML risk, side effects" in panel
    assert "Hair thinning" in panel


def test_the_onset_date_opens_on_today_in_iso_form_for_the_date_picker(
    signed_in, nurse, patient_a, on_teriflunomide
):
    from django.utils import timezone

    body = signed_in(nurse).get(url(patient_a)).content.decode()
    # A native date input shows nothing unless its value is YYYY-MM-DD.
    assert f'name="onset_on" value="{timezone.localdate().isoformat()}"' in body


def test_a_refused_report_is_no_created_entry_in_the_audit_trail(
    signed_in, nurse, patient_a, on_teriflunomide
):
    response = signed_in(nurse).post(url(patient_a), {"effect": "", "effect_other": ""})
    assert response.status_code == 422
    assert not AccessEvent.objects.filter(user=nurse, action=Action.CREATE).exists()
