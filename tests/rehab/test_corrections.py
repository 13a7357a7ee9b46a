"""Correcting a rehab session: its outcome measures stop counting (or move with it), and every
later measurement is compared again with the one that now precedes it (§8.2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.accounts.models import Discipline, Role
from clinic.permissions import CapabilityDenied
from tests.factories import UserFactory
from treatments.corrections import rehab
from treatments.models import OutcomeMeasurement
from treatments.rehab import services

TODAY = date(2026, 6, 15)
pytestmark = pytest.mark.usefixtures("_today")


@pytest.fixture
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def sdmt(value: str) -> dict[str, dict[str, str]]:
    return {"sdmt": {"correct": value}}


def amend(session, by, **changes):
    fields = {
        "held_on": session.held_on,
        "duration_minutes": session.duration_minutes,
        "discipline": session.discipline,
        "setting": session.setting,
        "interventions": session.interventions,
        "goals": session.goals,
        "progress": session.progress,
        "notes": session.notes,
        "referral": session.referral,
        **changes,
    }
    return rehab.amend_session(session=session, reason="Wrong date", by=by, **fields)


def test_a_session_entered_in_error_no_longer_flags_the_next_one(log_session, therapist):
    log_session(TODAY - timedelta(days=90), sdmt("50"))
    wrong = log_session(TODAY - timedelta(days=30), sdmt("40"))  # another patient's test
    latest = log_session(TODAY, sdmt("51")).measurements.get()
    assert latest.change == "better"  # 40 → 51

    rehab.mark_session_in_error(record=wrong, reason="Another patient's session", by=therapist)

    latest.refresh_from_db()
    first = OutcomeMeasurement.objects.get(session__held_on=TODAY - timedelta(days=90))
    assert (latest.previous, latest.change) == (first, "none")  # 50 → 51: no change
    trends = services.outcome_trends(patient=latest.patient, today=TODAY)
    assert [t.latest.score for t in trends] == [latest.score]
    assert OutcomeMeasurement.objects.standing().filter(measure="sdmt").count() == 2


def test_an_amended_session_takes_its_measures_to_the_corrected_date(log_session, therapist):
    log_session(TODAY - timedelta(days=90), sdmt("50"))
    later = log_session(TODAY - timedelta(days=10), sdmt("52"))
    moved = log_session(TODAY - timedelta(days=60), sdmt("40"))
    later_m = later.measurements.get()
    later_m.refresh_from_db()
    assert later_m.change == "better"  # 40 → 52

    # It was held after the later one, not before it.
    amended = amend(moved, therapist, held_on=TODAY - timedelta(days=5))

    [measurement] = amended.measurements.all()
    assert measurement.measured_on == TODAY - timedelta(days=5)
    later_m.refresh_from_db()
    assert later_m.change == "none"  # 50 → 52 now
    assert measurement.previous == later_m  # 52 → 40
    assert measurement.change == "worse"


def test_the_therapist_who_held_the_session_stays_on_the_amendment(
    log_session, therapist, neurologist
):
    session = log_session(TODAY - timedelta(days=3))
    amended = amend(session, neurologist, duration_minutes=60)
    assert amended.therapist == therapist
    session.refresh_from_db()
    assert session.corrected_by == neurologist


def test_a_session_amended_into_the_future_is_refused(log_session, therapist):
    session = log_session(TODAY - timedelta(days=3))
    with pytest.raises(ValidationError) as refused:
        amend(session, therapist, held_on=TODAY + timedelta(days=1))
    assert "held_on" in refused.value.message_dict


def test_another_therapist_may_not_correct_the_session(log_session, team_a):
    colleague = UserFactory(
        username="ot.ortiz", role=Role.THERAPIST, discipline=Discipline.OCCUPATIONAL_THERAPY
    )
    colleague.care_teams.add(team_a)
    session = log_session(TODAY - timedelta(days=3))
    with pytest.raises(CapabilityDenied):
        rehab.mark_session_in_error(record=session, reason="x", by=colleague)


def test_a_corrected_session_no_longer_counts_for_its_therapy_plan(
    log_session, therapist, patient_a
):
    services.create_therapy_plan(
        patient=patient_a,
        by=therapist,
        discipline="physiotherapy",
        goals="Balance",
        planned_sessions=6,
        frequency="weekly",
        starts_on=TODAY - timedelta(days=20),
    )
    wrong = log_session(TODAY - timedelta(days=3))
    [row] = services.plans_with_progress(patient=patient_a, today=TODAY)
    assert row.progress.done == 1
    rehab.mark_session_in_error(record=wrong, reason="Logged twice", by=therapist)
    [row] = services.plans_with_progress(patient=patient_a, today=TODAY)
    assert row.progress.done == 0


def test_the_session_log_shows_the_correction_and_the_buttons_to_its_therapist(
    log_session, therapist, patient_a, signed_in
):
    kept = log_session(TODAY - timedelta(days=10))
    wrong = log_session(TODAY - timedelta(days=3))
    client = signed_in(therapist)
    url = reverse(
        "corrections:error",
        kwargs={
            "external_id": patient_a.external_id,
            "kind": "rehab-session",
            "record_id": wrong.pk,
        },
    )
    response = client.post(url, {"correction-reason": "Logged on the wrong patient"})
    assert response.status_code == 302
    body = client.get(reverse("rehab:patient", kwargs={"external_id": patient_a.external_id}))
    text = body.content.decode()
    assert "rehab-session corrected" in text
    assert "Logged on the wrong patient" in text
    kept_url = url.replace(f"/{wrong.pk}/", f"/{kept.pk}/")
    assert kept_url in text
