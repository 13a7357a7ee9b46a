"""The relapse triage line: a nurse logs a call, Myelin suggests an outcome and starts its clock,
the outcome creates a relapse record, books a review or starts a treatment, and a breached clock
raises one alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from clinic.audit.models import AccessEvent, Category
from clinic.permissions import CapabilityDenied
from patients.models import Relapse
from patients.records import services as records
from tests.factories import patient_timeline
from treatments.errors import TreatmentError
from treatments.models import (
    Alert,
    AlertGrade,
    AlertKind,
    AlertStatus,
    ClinicSettings,
    SymptomaticTreatment,
    TriageCall,
)
from treatments.triage import services as triage
from treatments.triage.services import CallReport
from treatments.triage.sweeps import sweep_triage_breaches

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
REPORT = CallReport(
    onset_on=date(2026, 6, 13),
    duration_hours=50,
    symptoms="Numb legs, worse walking",
    systems=("sensory", "pyramidal"),
    dipstick="negative",
    functional_impact="moderate",
)


def log(patient: Any, by: Any, report: CallReport = REPORT, **extra: Any) -> TriageCall:
    return triage.log_call(
        patient=patient, report=report, called_at=extra.pop("called_at", NOON), by=by, **extra
    )


def test_a_possible_relapse_is_logged_with_its_suggestion_reasons_and_48_hour_clock(
    today, patient_a, nurse
):
    call = log(patient_a, nurse)

    assert call.suggestion == call.outcome == "possible_relapse"
    assert call.meets_definition
    assert call.due_at == NOON + timedelta(hours=48)
    assert call.catalogue_version
    assert call.reasons
    event = AccessEvent.objects.filter(category=Category.TRIAGE).latest("id")
    assert (event.patient_id, event.detail) == (
        patient_a.pk,
        "triage call logged: possible_relapse",
    )


def test_the_clinics_review_target_sets_the_clock(today, patient_a, nurse):
    ClinicSettings.objects.filter(pk=ClinicSettings.load().pk).update(relapse_review_hours=24)

    call = log(patient_a, nurse)

    assert call.due_at == NOON + timedelta(hours=24)


def test_a_fever_measured_on_the_call_counts_and_suggests_a_pseudo_relapse_without_clock(
    today, patient_a, nurse
):
    report = CallReport(**{**REPORT.__dict__, "temperature_c": Decimal("38.4")})

    call = log(patient_a, nurse, report)

    assert call.fever
    assert call.outcome == "pseudo_relapse"
    assert call.due_at is None


def test_a_relapse_within_30_days_is_the_same_event(today, patient_a, nurse):
    records.record_relapse(
        patient=patient_a,
        onset_on=date(2026, 6, 1),
        end_on=None,
        symptoms="Optic neuritis",
        functional_systems=["visual"],
        severity="moderate",
        objectively_confirmed=True,
        infection_excluded=True,
        recovery="unknown",
        treatment="none",
        by=nurse,
    )

    call = log(patient_a, nurse)

    assert not call.meets_definition
    assert any("part of the same event" in reason for reason in call.reasons)


def test_another_outcome_than_the_suggestion_needs_the_reason_in_the_advice(
    today, patient_a, nurse
):
    with pytest.raises(TreatmentError) as refused:
        log(patient_a, nurse, outcome="red_flags")
    assert refused.value.field == "advice"

    call = log(patient_a, nurse, outcome="red_flags", advice="Falls twice today; seen today.")
    assert call.outcome == "red_flags"
    assert call.suggestion == "possible_relapse"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"onset_on": date(2026, 6, 16)}, "onset_on"),
        ({"duration_hours": 80}, "duration_hours"),  # longer than since the onset day began
        ({"temperature_c": Decimal("48.0")}, "temperature_c"),
        ({"symptoms": "  "}, "symptoms"),
        ({"red_flags": ("made_up",)}, "red_flags"),
    ],
)
def test_impossible_calls_are_refused_at_their_field(today, patient_a, nurse, change, field):
    with pytest.raises(TreatmentError) as refused:
        log(patient_a, nurse, CallReport(**{**REPORT.__dict__, **change}))

    assert refused.value.field == field
    assert not TriageCall.objects.exists()


def test_a_call_in_the_future_is_refused(today, patient_a, nurse):
    with pytest.raises(TreatmentError) as refused:
        log(patient_a, nurse, called_at=NOON + timedelta(hours=2))

    assert refused.value.field == "called_at"


def test_a_therapist_cannot_log_a_call(today, patient_a, therapist):
    with pytest.raises(CapabilityDenied):
        log(patient_a, therapist)


def test_the_outcome_creates_a_relapse_record_through_the_relapse_service(today, patient_a, nurse):
    call = log(patient_a, nurse)

    recorded = triage.record_relapse_from_call(
        call=call, severity="moderate", objectively_confirmed=False, by=nurse
    )

    relapse = Relapse.objects.get(patient=patient_a)
    assert recorded.relapse == relapse
    assert call.relapse == relapse
    assert relapse.onset_on == REPORT.onset_on
    assert relapse.functional_systems == ["pyramidal", "sensory"]
    # A negative dipstick and no fever: infection excluded on the record.
    assert relapse.infection_excluded
    with pytest.raises(TreatmentError):
        triage.record_relapse_from_call(
            call=call, severity="moderate", objectively_confirmed=False, by=nurse
        )


def test_a_pseudo_relapse_is_not_recorded_as_a_relapse(today, patient_a, nurse):
    call = log(patient_a, nurse, CallReport(**{**REPORT.__dict__, "heat_trigger": True}))

    with pytest.raises(TreatmentError):
        triage.record_relapse_from_call(
            call=call, severity="mild", objectively_confirmed=False, by=nurse
        )


def test_the_outcome_starts_a_relapse_treatment_and_notes_it_on_the_relapse(
    today, patient_a, nurse
):
    call = log(patient_a, nurse)
    triage.record_relapse_from_call(
        call=call, severity="moderate", objectively_confirmed=False, by=nurse
    )

    treatment, warnings = triage.start_relapse_treatment(
        call=call, regimen_key="oral_mp", started_on=date(2026, 6, 15), by=nurse
    )

    assert treatment.kind == "relapse"
    assert treatment.drug == "Oral methylprednisolone"
    assert treatment.dose == "500 mg once daily for 5 days"
    assert warnings == []
    call.relapse.refresh_from_db()
    assert call.relapse.treatment == "oral_steroids"


def test_steroids_wait_for_an_infection_to_be_treated(today, patient_a, nurse):
    report = CallReport(**{**REPORT.__dict__, "dipstick": "nitrites"})
    call = log(patient_a, nurse, report, outcome="possible_relapse", advice="Neuro wants review")

    with pytest.raises(TreatmentError) as refused:
        triage.start_relapse_treatment(
            call=call, regimen_key="oral_mp", started_on=date(2026, 6, 15), by=nurse
        )

    assert refused.value.field == "regimen"
    assert not SymptomaticTreatment.objects.exists()


def test_a_treatment_over_14_days_after_onset_is_started_with_a_warning(today, patient_a, nurse):
    report = CallReport(**{**REPORT.__dict__, "onset_on": date(2026, 5, 20), "duration_hours": 200})
    call = log(patient_a, nurse, report)

    _, warnings = triage.start_relapse_treatment(
        call=call, regimen_key="iv_mp", started_on=date(2026, 6, 15), by=nurse
    )

    assert warnings
    assert "14 days" in warnings[0]


def test_booking_the_review_after_the_target_shows_it_late(today, patient_a, nurse):
    call = log(patient_a, nurse)

    triage.book_review(call=call, review_at=NOON + timedelta(hours=72), by=nurse)

    assert call.review_booked_late
    with pytest.raises(TreatmentError) as refused:
        triage.book_review(call=call, review_at=NOON - timedelta(hours=1), by=nurse)
    assert refused.value.field == "review_at"


def test_a_breached_clock_raises_one_alert_however_often_the_sweep_runs(patient_a, nurse):
    with time_machine.travel(NOON, tick=False):
        call = log(patient_a, nurse)
    with time_machine.travel(NOON + timedelta(hours=47), tick=False):
        assert sweep_triage_breaches()["created"] == 0
    with time_machine.travel(NOON + timedelta(hours=49), tick=False):
        first = sweep_triage_breaches()
        second = sweep_triage_breaches()

    assert (first["created"], second["created"]) == (1, 0)
    alert = Alert.objects.get(kind=AlertKind.TRIAGE_OVERDUE)
    assert alert.condition_key == f"triage_overdue:call:{call.pk}"
    assert alert.grade == AlertGrade.WARNING
    # The nurse who took the call chases it.
    assert alert.owner == nurse


def test_a_red_flag_call_past_the_end_of_the_day_is_critical_for_the_neurologist(
    patient_a, nurse, neurologist
):
    report = CallReport(**{**REPORT.__dict__, "red_flags": ("vision_loss",)})
    with time_machine.travel(NOON, tick=False):
        log(patient_a, nurse, report)
    with time_machine.travel(NOON + timedelta(hours=13), tick=False):
        sweep_triage_breaches()

    alert = Alert.objects.get(kind=AlertKind.TRIAGE_OVERDUE)
    assert (alert.grade, alert.owner) == (AlertGrade.CRITICAL, neurologist)


def test_closing_the_call_stops_the_clock_and_resolves_its_alert(patient_a, nurse):
    with time_machine.travel(NOON, tick=False):
        call = log(patient_a, nurse)
    with time_machine.travel(NOON + timedelta(hours=50), tick=False):
        sweep_triage_breaches()
        with pytest.raises(TreatmentError):
            triage.close_call(call=call, note=" ", by=nurse)
        triage.close_call(call=call, note="Seen in clinic; relapse confirmed.", by=nurse)
        again = sweep_triage_breaches()

    assert Alert.objects.get(kind=AlertKind.TRIAGE_OVERDUE).status == AlertStatus.RESOLVED
    # Closed: never raised again.
    assert again["created"] == 0
    assert not TriageCall.objects.breached(at=NOON + timedelta(hours=60)).exists()


def test_the_sweep_resolves_an_alert_whose_call_was_closed_behind_its_back(patient_a, nurse):
    with time_machine.travel(NOON, tick=False):
        call = log(patient_a, nurse)
    with time_machine.travel(NOON + timedelta(hours=50), tick=False):
        sweep_triage_breaches()
        TriageCall.objects.filter(pk=call.pk).update(
            closed_at=NOON + timedelta(hours=50), closed_by=nurse, close_note="Seen"
        )
        result = sweep_triage_breaches()

    assert result["resolved"] == 1


def test_calls_are_on_the_patients_timeline(today, client, patient_a, nurse, signed_in):
    call = log(patient_a, nurse)
    triage.close_call(call=call, note="Seen in clinic", by=nurse)

    html = patient_timeline(signed_in(nurse), patient_a)

    assert "Relapse triage call: possible relapse" in html
    assert "Relapse triage call closed" in html
