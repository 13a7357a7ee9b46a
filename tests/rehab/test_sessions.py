"""Logging rehab sessions: outcome measures validated at the field, scored, and compared with the
previous value so a meaningful change is flagged."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clinic.audit.models import AccessEvent, Category
from clinic.permissions import CapabilityDenied
from treatments.models import OutcomeMeasurement, RehabSession
from treatments.rehab import services

TODAY = date(2026, 6, 15)


def new_session_url(patient) -> str:
    return reverse("rehab:new_session", kwargs={"external_id": patient.external_id})


def form_data(**overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "held_on": TODAY.isoformat(),
        "duration_minutes": "45",
        "discipline": "physiotherapy",
        "setting": "clinic",
        "interventions": ["balance", "strength"],
        "goals": "Walk to the shops without a rest",
        "progress": "Steadier on turns",
    }
    data.update(overrides)
    return data


@time_machine.travel(TODAY, tick=False)
def test_a_therapist_logs_a_session_with_a_walk_test_and_a_berg_score(
    signed_in, therapist, patient_a
):
    client = signed_in(therapist)
    response = client.post(
        new_session_url(patient_a),
        form_data(**{"t25fw-trial_1": "6.4", "t25fw-trial_2": "6.0", "bbs-total": "44"}),
    )
    assert response.status_code == 302
    session = RehabSession.objects.get()
    assert session.interventions == ["balance", "strength"]
    scores = dict(session.measurements.values_list("measure", "score"))
    assert scores == {"t25fw": Decimal("6.200"), "bbs": Decimal("44.000")}
    t25fw = session.measurements.get(measure="t25fw")
    # The raw trials are kept, not only the mean (§8.2).
    assert t25fw.fields == {"trial_1": "6.4", "trial_2": "6.0"}
    assert AccessEvent.objects.filter(
        user=therapist, action="create", category=Category.REHAB, object_id=str(session.pk)
    ).exists()


@time_machine.travel(TODAY, tick=False)
def test_a_trial_beyond_the_stop_time_is_refused_at_its_field_and_nothing_is_saved(
    signed_in, therapist, patient_a
):
    response = signed_in(therapist).post(
        new_session_url(patient_a), form_data(**{"t25fw-trial_1": "200", "t25fw-trial_2": "6"})
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_t25fw-trial_1_error">Must be at most 180 s.' in body
    # What was typed is still there.
    assert 'value="Walk to the shops without a rest"' in body or "Walk to the shops" in body
    assert not RehabSession.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sdmt-correct", "111", "Must be at most 110 correct."),
        ("sdmt-correct", "40.5", "Enter a whole number."),
        ("six_mwt-distance_m", "-3", "Must be at least 0 m."),
        ("nine_hpt-right_1", "0", "Must be more than 0 s."),
        ("msis29-physical", "101", "Must be at most 100 points."),
        ("bbs-item_1", "5", "Must be at most 4 points."),
    ],
)
@time_machine.travel(TODAY, tick=False)
def test_values_outside_a_measures_range_are_refused_at_the_field(
    field, value, message, signed_in, therapist, patient_a
):
    response = signed_in(therapist).post(new_session_url(patient_a), form_data(**{field: value}))
    assert response.status_code == 422
    assert f'id="id_{field}_error">{message}' in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_an_incomplete_measure_names_the_missing_trial(signed_in, therapist, patient_a):
    response = signed_in(therapist).post(
        new_session_url(patient_a), form_data(**{"t25fw-trial_1": "6.1"})
    )
    assert 'id="id_t25fw-trial_2_error">This field is required.' in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_mfis_subscales_that_do_not_add_up_to_the_total_are_refused(
    signed_in, therapist, patient_a
):
    response = signed_in(therapist).post(
        new_session_url(patient_a),
        form_data(
            **{
                "mfis-physical": "20",
                "mfis-cognitive": "20",
                "mfis-psychosocial": "4",
                "mfis-total": "50",
            }
        ),
    )
    assert "The total must equal the sum of the subscales (44)." in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_a_session_in_the_future_is_refused_at_the_date(signed_in, therapist, patient_a):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    response = signed_in(therapist).post(new_session_url(patient_a), form_data(held_on=tomorrow))
    assert response.status_code == 422
    assert 'id="id_held_on_error">The session date cannot be in the future.' in (
        response.content.decode()
    )


@pytest.mark.parametrize("minutes", ["4", "481"])
@time_machine.travel(TODAY, tick=False)
def test_a_duration_outside_five_to_480_minutes_is_refused(
    minutes, signed_in, therapist, patient_a
):
    response = signed_in(therapist).post(
        new_session_url(patient_a), form_data(duration_minutes=minutes)
    )
    assert "A session lasts 5 to 480 minutes." in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_the_service_refuses_a_future_session_too(log_session):
    with pytest.raises(services.RehabRefused, match="future"):
        log_session(TODAY + timedelta(days=1))


@time_machine.travel(TODAY, tick=False)
def test_the_first_value_of_a_measure_has_nothing_to_compare_with(log_session):
    session = log_session(TODAY, {"t25fw": {"trial_1": "6", "trial_2": "6"}})
    [m] = session.measurements.all()
    assert (m.previous, m.change, m.threshold_text) == (None, "none", "")


@time_machine.travel(TODAY, tick=False)
def test_a_slower_walk_beyond_twenty_percent_is_flagged_as_worse(log_session):
    log_session(TODAY - timedelta(days=60), {"t25fw": {"trial_1": "6.0", "trial_2": "6.0"}})
    session = log_session(TODAY, {"t25fw": {"trial_1": "7.6", "trial_2": "7.4"}})
    m = session.measurements.get()
    assert m.change == "worse"
    assert m.change_percent == Decimal("25.0")
    assert "20%" in m.threshold_text


@time_machine.travel(TODAY, tick=False)
def test_a_faster_walk_beyond_twenty_percent_is_flagged_as_better(log_session):
    log_session(TODAY - timedelta(days=60), {"t25fw": {"trial_1": "10", "trial_2": "10"}})
    m = log_session(TODAY, {"t25fw": {"trial_1": "7.5", "trial_2": "7.5"}}).measurements.get()
    assert m.change == "better"


@time_machine.travel(TODAY, tick=False)
def test_a_small_change_is_not_flagged(log_session):
    log_session(TODAY - timedelta(days=60), {"t25fw": {"trial_1": "6", "trial_2": "6"}})
    m = log_session(TODAY, {"t25fw": {"trial_1": "6.5", "trial_2": "6.5"}}).measurements.get()
    assert (m.change, m.is_flagged) == ("none", False)


@time_machine.travel(TODAY, tick=False)
def test_berg_falling_into_the_fall_risk_range_is_flagged_as_worse(log_session):
    log_session(TODAY - timedelta(days=60), {"bbs": {"total": "48"}})
    m = log_session(TODAY, {"bbs": {"total": "44"}}).measurements.get()
    assert m.change == "worse"
    assert "45" in m.threshold_text


@time_machine.travel(TODAY, tick=False)
def test_a_session_entered_late_is_compared_with_what_came_before_it(log_session):
    log_session(TODAY - timedelta(days=90), {"sdmt": {"correct": "50"}})
    latest = log_session(TODAY, {"sdmt": {"correct": "51"}}).measurements.get()
    # A session held in between, entered afterwards: 50 → 40 is worse, and 40 → 51 is better.
    middle = log_session(TODAY - timedelta(days=30), {"sdmt": {"correct": "40"}})
    latest.refresh_from_db()
    assert middle.measurements.get().change == "worse"
    assert (latest.previous, latest.change) == (middle.measurements.get(), "better")


@time_machine.travel(TODAY, tick=False)
def test_measurements_are_compared_per_patient(log_session, patient_a, team_a):
    from tests.factories import PatientFactory

    other = PatientFactory(care_team=team_a)
    log_session(TODAY - timedelta(days=30), {"sdmt": {"correct": "60"}}, patient=other)
    m = log_session(TODAY, {"sdmt": {"correct": "40"}}).measurements.get()
    assert m.previous is None


@time_machine.travel(TODAY, tick=False)
def test_a_session_can_be_linked_to_the_patients_referral(log_session, make_referral):
    referral = make_referral("in_progress")
    session = log_session(TODAY, referral=referral)
    assert session.referral == referral


@time_machine.travel(TODAY, tick=False)
def test_a_session_cannot_be_linked_to_another_patients_referral(
    log_session, make_referral, team_a
):
    from tests.factories import PatientFactory

    other = PatientFactory(care_team=team_a)
    referral = make_referral("in_progress", patient=other)
    with pytest.raises(services.RehabRefused, match="another patient"):
        log_session(TODAY, referral=referral)


@pytest.mark.parametrize("who", ["neurologist", "nurse"])
def test_only_therapists_log_sessions(who, cast, signed_in, patient_a):
    response = signed_in(cast[who]).get(new_session_url(patient_a))
    assert response.status_code == 403


def test_the_service_refuses_a_session_by_a_neurologist(cast, patient_a):
    # Refused by the permission table (clinic.permissions), as every service refuses a role.
    with pytest.raises(CapabilityDenied, match="Only therapists"):
        services.log_session(
            patient=patient_a,
            by=cast["neurologist"],
            held_on=timezone.localdate(),
            duration_minutes=30,
            discipline="physiotherapy",
            setting="clinic",
            interventions=[],
        )


def test_the_session_form_defaults_to_the_therapists_discipline(signed_in, therapist, patient_a):
    response = signed_in(therapist).get(new_session_url(patient_a))
    assert response.context["form"]["discipline"].value() == "physiotherapy"


def test_a_measurement_row_keeps_score_and_raw_fields(log_session):
    session = log_session(
        timezone.localdate(),
        {"nine_hpt": {"right_1": "20", "right_2": "22", "left_1": "24", "left_2": "26"}},
    )
    m = OutcomeMeasurement.objects.get(session=session)
    assert m.score == Decimal("23.000")
    assert m.patient == session.patient
    assert m.measured_on == session.held_on


@time_machine.travel(TODAY, tick=False)
def test_a_refused_session_is_audited_as_a_view_never_as_created(signed_in, therapist, patient_a):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    response = signed_in(therapist).post(new_session_url(patient_a), form_data(held_on=tomorrow))
    assert response.status_code == 422
    assert not RehabSession.objects.exists()
    rehab_events = AccessEvent.objects.filter(user=therapist, category=Category.REHAB)
    assert rehab_events.exists()
    assert not rehab_events.filter(action="create").exists()


@time_machine.travel(TODAY, tick=False)
def test_a_saved_session_is_audited_as_created_once(signed_in, therapist, patient_a):
    response = signed_in(therapist).post(new_session_url(patient_a), form_data())
    assert response.status_code == 302
    created = AccessEvent.objects.filter(user=therapist, action="create", category=Category.REHAB)
    assert created.count() == 1
    assert created.get().object_id == str(RehabSession.objects.get().pk)
