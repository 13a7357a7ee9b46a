"""Correcting a result or a side-effect report: the monitoring item it closed, the alerts it
raised and the PML category it fed follow at once (issue #15)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from clinic.audit.models import AccessEvent, Action
from clinic.permissions import CapabilityDenied
from patients.models import Patient
from tests.evaluation.conftest import Record, entered
from tests.treatments.conftest import StartPlan
from treatments.corrections import results, side_effects
from treatments.models import (
    Alert,
    AlertGrade,
    AlertKind,
    AlertStatus,
    ItemStatus,
    MonitoringItem,
    PmlProfile,
    Result,
)
from treatments.safety import evaluation
from treatments.safety import services as safety_services
from treatments.safety.services import SafetyError

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)


@pytest.fixture
def on_teriflunomide(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "teriflunomide", date(2026, 3, 2))


def open_item(plan: Any, patient: Patient, investigation: str = "alt") -> MonitoringItem:
    """A monitoring item whose window holds DAY, for the result to close."""
    return MonitoringItem.objects.create(
        patient=patient,
        plan=plan,
        protocol_version=plan.protocol_version,
        rule_key="test.alt",
        investigation=investigation,
        anchor="first_dose",
        anchor_on=plan.started_on,
        occurrence=99,
        due_on=DAY - timedelta(days=5),
        window_opens_on=DAY - timedelta(days=10),
        window_closes_on=DAY - timedelta(days=1),
        explanation="ALT (test)",
    )


def abnormal_alerts(patient: Patient) -> list[Alert]:
    return list(Alert.objects.filter(patient=patient, kind=AlertKind.ABNORMAL_RESULT))


# Results ----------------------------------------------------------------------------------------


def test_a_result_entered_in_error_resolves_its_alerts_and_reopens_its_item(
    on_teriflunomide: Any, patient_a: Patient, record: Record, nurse: Any
) -> None:
    item = open_item(on_teriflunomide, patient_a)
    wrong = record(patient_a, "alt", DAY - timedelta(days=3), ("alt", "100", "0", "40"), item=item)
    item.refresh_from_db()
    assert item.result == wrong
    [alert] = abnormal_alerts(patient_a)

    results.mark_result_in_error(record=wrong, reason="Another patient's sample", by=nurse)

    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolved_automatically
    assert "entered in error" in alert.resolution_note
    item.refresh_from_db()
    assert item.result is None
    assert item.status == ItemStatus.SCHEDULED  # open again: overdue by the calendar
    assert item.status_on(DAY) == ItemStatus.OVERDUE


def test_a_reopened_item_is_closed_by_another_standing_result_that_answers_it(
    on_teriflunomide: Any, patient_a: Patient, record: Record, nurse: Any
) -> None:
    item = open_item(on_teriflunomide, patient_a)
    wrong = record(patient_a, "alt", DAY - timedelta(days=8), ("alt", "30", "0", "40"), item=item)
    # A second ALT in the same window, from an outside lab: recorded without closing anything.
    other = Result.objects.create(
        patient=patient_a, investigation="alt", taken_on=DAY - timedelta(days=4), recorded_by=nurse
    )
    results.mark_result_in_error(record=wrong, reason="Wrong patient", by=nurse)
    item.refresh_from_db()
    assert item.result == other
    assert item.status == ItemStatus.DONE_IN_WINDOW
    assert item.completed_on == other.taken_on


def test_the_overdue_alert_of_a_reopened_item_comes_back_at_once(
    on_teriflunomide: Any,
    patient_a: Patient,
    record: Record,
    nurse: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    item = open_item(on_teriflunomide, patient_a)
    wrong = record(patient_a, "alt", DAY - timedelta(days=3), ("alt", "30", "0", "40"), item=item)
    with django_capture_on_commit_callbacks(execute=True):
        results.mark_result_in_error(record=wrong, reason="Wrong patient", by=nurse)
    # The sweeps are queued after commit, not left to the next quarter-hour: overdue again.
    assert Alert.objects.filter(
        condition_key=f"overdue:item:{item.pk}", status=AlertStatus.OPEN
    ).exists()


def test_an_amended_result_closes_the_same_item_and_is_evaluated_again(
    on_teriflunomide: Any,
    patient_a: Patient,
    record: Record,
    nurse: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    item = open_item(on_teriflunomide, patient_a)
    original = record(
        patient_a, "alt", DAY - timedelta(days=3), ("alt", "100", "0", "40"), item=item
    )
    [first_alert] = abnormal_alerts(patient_a)
    assert first_alert.grade == AlertGrade.WARNING

    with django_capture_on_commit_callbacks(execute=True):
        amended = results.amend_result(
            result=original,
            taken_on=DAY - timedelta(days=3),
            values=[entered("alt", "150", "0", "40")],  # 3.75×ULN, not 2.5×: mistyped
            reason="Value mistyped",
            by=nurse,
        )

    assert amended.amends == original
    item.refresh_from_db()
    assert item.result == amended
    first_alert.refresh_from_db()
    assert first_alert.status == AlertStatus.RESOLVED
    assert "amended" in first_alert.resolution_note
    # Evaluated after commit like any new result: the corrected value raises its own alert.
    new_alert = Alert.objects.get(raised_by_id=str(amended.pk), kind=AlertKind.ABNORMAL_RESULT)
    assert new_alert.status == AlertStatus.OPEN
    assert "ALT > 3×ULN" in new_alert.title  # graded from the corrected value
    event = AccessEvent.objects.filter(patient=patient_a).order_by("-id").first()
    assert (event.action, event.object_id) == (Action.AMEND, str(original.pk))


def test_an_amendment_with_a_wrong_unit_is_refused_like_a_new_result(
    on_teriflunomide: Any, patient_a: Patient, record: Record, nurse: Any
) -> None:
    original = record(patient_a, "alt", DAY, ("alt", "30", "0", "40"))
    with pytest.raises(ValidationError) as refused:
        results.amend_result(
            result=original,
            taken_on=DAY,
            values=[results.EnteredValue("alt", Decimal("30"), "furlongs")],
            reason="Unit",
            by=nurse,
        )
    assert "alt_unit" in refused.value.message_dict
    original.refresh_from_db()
    assert original.is_standing


def test_a_corrected_result_no_longer_counts_for_trends_gates_or_review(
    on_teriflunomide: Any, patient_a: Patient, record: Record, nurse: Any
) -> None:
    from treatments.safety.rules import History

    wrong = record(patient_a, "alt", DAY, ("alt", "100", "0", "40"))
    assert Result.objects.to_review().filter(pk=wrong.pk).exists()
    results.mark_result_in_error(record=wrong, reason="Wrong patient", by=nurse)
    assert not Result.objects.to_review().filter(pk=wrong.pk).exists()
    assert History.load(patient_a.pk, {"alt"}).series("alt") == []


def test_a_corrected_result_is_not_evaluated_if_its_evaluation_runs_late(
    on_teriflunomide: Any, patient_a: Patient, record: Record, nurse: Any
) -> None:
    wrong = record(patient_a, "alt", DAY, ("alt", "100", "0", "40"), evaluate=False)
    Alert.objects.all().delete()  # what the after-commit evaluation raised in the test
    results.mark_result_in_error(record=wrong, reason="Wrong patient", by=nurse)
    assert evaluation.evaluate_result(result_id=wrong.pk) == 0
    assert not abnormal_alerts(patient_a)


def test_a_jcv_result_entered_in_error_moves_the_pml_category_back(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, record: Record, nurse: Any
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2024, 7, 1))
    record(patient_a, "jcv_antibody", DAY - timedelta(days=200), qualitative="negative")
    wrong = record(
        patient_a, "jcv_antibody", DAY, qualitative="positive", index_value=Decimal("2.0")
    )
    assert PmlProfile.objects.get(plan=plan).category != "lowest"
    results.mark_result_in_error(record=wrong, reason="Another patient's serology", by=nurse)
    assert PmlProfile.objects.get(plan=plan).category == "lowest"


def test_only_the_author_or_a_neurologist_may_correct_a_result(
    on_teriflunomide: Any, patient_a: Patient, record: Record, neurologist: Any, therapist: Any
) -> None:
    result = record(patient_a, "alt", DAY, ("alt", "30", "0", "40"))  # recorded by the nurse
    with pytest.raises(CapabilityDenied):
        results.mark_result_in_error(record=result, reason="x", by=therapist)
    results.mark_result_in_error(record=result, reason="Wrong patient", by=neurologist)


# Side-effect reports ----------------------------------------------------------------------------


def report(patient: Patient, plan: Any, by: Any, **overrides: Any) -> Any:
    fields = {
        "effect": "",
        "effect_other": "Flushing",
        "onset_on": DAY - timedelta(days=2),
        "ctcae_grade": 1,
        "serious": False,
        "action_taken": "none",
        "notes": "",
        **overrides,
    }
    return safety_services.report_side_effect(patient=patient, plan=plan, by=by, **fields)


def test_a_side_effect_entered_in_error_resolves_its_alert(
    on_teriflunomide: Any, patient_a: Patient, nurse: Any
) -> None:
    wrong = report(patient_a, on_teriflunomide, nurse, ctcae_grade=3)
    alert = Alert.objects.get(kind=AlertKind.SIDE_EFFECT)
    assert alert.grade == AlertGrade.CRITICAL
    side_effects.mark_report_in_error(record=wrong, reason="Belongs to another patient", by=nurse)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert "entered in error" in alert.resolution_note


def test_an_amended_side_effect_is_alerted_again_at_its_corrected_grade(
    on_teriflunomide: Any, patient_a: Patient, nurse: Any
) -> None:
    original = report(patient_a, on_teriflunomide, nurse, ctcae_grade=1)
    amended = side_effects.amend_report(
        report=original,
        effect="",
        effect_other="Flushing with wheeze",
        onset_on=DAY - timedelta(days=2),
        ctcae_grade=3,
        serious=True,
        action_taken="hospitalised",
        notes="",
        reason="Grade underestimated",
        by=nurse,
    )
    old = Alert.objects.get(raised_by_id=str(original.pk), kind=AlertKind.SIDE_EFFECT)
    new = Alert.objects.get(raised_by_id=str(amended.pk), kind=AlertKind.SIDE_EFFECT)
    assert old.status == AlertStatus.RESOLVED
    assert (new.status, new.grade) == (AlertStatus.OPEN, AlertGrade.CRITICAL)


def test_a_side_effect_before_its_drug_started_asks_for_confirmation(
    on_teriflunomide: Any, patient_a: Patient, nurse: Any
) -> None:
    before = date(2026, 2, 20)  # teriflunomide started on 2 Mar 2026
    with pytest.raises(SafetyError) as warned:
        report(patient_a, on_teriflunomide, nurse, onset_on=before)
    assert warned.value.field == "onset_on"
    assert warned.value.confirm == "onset_before_start_confirmed"
    assert "before Teriflunomide was started" in warned.value.message
    saved = report(
        patient_a, on_teriflunomide, nurse, onset_on=before, onset_before_start_confirmed=True
    )
    assert saved.onset_on == before


def test_the_side_effect_form_shows_the_confirmation_only_with_the_warning(
    on_teriflunomide: Any, patient_a: Patient, nurse: Any, signed_in: Any
) -> None:
    from django.urls import reverse

    client = signed_in(nurse)
    url = reverse("safety:side_effects", kwargs={"external_id": patient_a.external_id})
    form = {
        "effect": "",
        "effect_other": "Headache",
        "onset_on": "2026-02-20",
        "ctcae_grade": "1",
        "action_taken": "none",
    }
    assert (
        'type="checkbox" name="onset_before_start_confirmed"'
        not in client.get(url).content.decode()
    )
    warned = client.post(url, form)
    assert warned.status_code == 422
    body = warned.content.decode()
    assert "before Teriflunomide was started" in body
    assert 'type="checkbox" name="onset_before_start_confirmed"' in body
    saved = client.post(url, {**form, "onset_before_start_confirmed": "on"})
    assert saved.status_code == 302
