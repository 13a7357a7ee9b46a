"""The rehab page, therapy plans, trends on the patient page, and scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from patients.records import timeline
from patients.records.timeline import ChartPeriod, panel_for, timeline_for
from tests.factories import UserFactory
from treatments.models import TherapyPlan
from treatments.rehab import services

TODAY = date(2026, 6, 15)


def rehab_url(patient) -> str:
    return reverse("rehab:patient", kwargs={"external_id": patient.external_id})


@time_machine.travel(TODAY, tick=False)
def test_the_rehab_page_lists_sessions_and_charts_each_measure(
    signed_in, neurologist, patient_a, log_session
):
    log_session(TODAY - timedelta(days=90), {"t25fw": {"trial_1": "6", "trial_2": "6"}})
    log_session(TODAY, {"t25fw": {"trial_1": "7.5", "trial_2": "7.5"}, "bbs": {"total": "47"}})
    body = signed_in(neurologist).get(rehab_url(patient_a)).content.decode()
    assert body.count('class="card rehab-session"') == 2
    assert '<svg class="chart"' in body
    assert "Timed 25-Foot Walk (s; higher is worse)" in body
    assert "Meaningful worsening" in body


@time_machine.travel(TODAY, tick=False)
def test_the_rehab_page_query_count_does_not_grow_with_sessions(
    signed_in, therapist, patient_a, log_session, django_assert_max_num_queries
):
    client = signed_in(therapist)
    log_session(TODAY - timedelta(days=100), {"t25fw": {"trial_1": "6", "trial_2": "6"}})
    # 6 of these are the treatments app's registered timeline and chart-period sources.
    with django_assert_max_num_queries(31) as few:
        client.get(rehab_url(patient_a))
    for days in range(1, 25):
        log_session(
            TODAY - timedelta(days=days),
            {"t25fw": {"trial_1": "6", "trial_2": "6"}, "sdmt": {"correct": "50"}},
        )
    with django_assert_max_num_queries(31) as many:
        client.get(rehab_url(patient_a))
    assert len(many.captured_queries) == len(few.captured_queries)


@time_machine.travel(TODAY, tick=False)
def test_a_therapist_creates_a_plan_and_sees_progress_against_it(
    signed_in, therapist, patient_a, log_session
):
    client = signed_in(therapist)
    response = client.post(
        reverse("rehab:new_plan", kwargs={"external_id": patient_a.external_id}),
        {
            "discipline": "physiotherapy",
            "goals": "Independent outdoor walking",
            "planned_sessions": "8",
            "frequency": "weekly",
            "starts_on": (TODAY - timedelta(days=21)).isoformat(),
        },
    )
    assert response.status_code == 302
    for days in (21, 14, 7):
        log_session(TODAY - timedelta(days=days))
    [row] = services.plans_with_progress(patient=patient_a, today=TODAY)
    assert (row.progress.done, row.progress.planned, row.progress.expected) == (3, 8, 4)
    assert row.progress.on_track
    assert "3 of 8 sessions" in client.get(rehab_url(patient_a)).content.decode()


def test_a_plan_with_more_than_one_session_missed_is_behind():
    plan = TherapyPlan(planned_sessions=10, frequency="weekly", starts_on=date(2026, 1, 5))
    progress = plan.progress_on(date(2026, 2, 2), done=2)
    assert (progress.expected, progress.on_track) == (5, False)


def test_a_plan_never_expects_more_than_planned():
    plan = TherapyPlan(planned_sessions=4, frequency="twice_weekly", starts_on=date(2026, 1, 5))
    assert plan.expected_sessions_on(date(2026, 6, 1)) == 4
    assert plan.expected_sessions_on(date(2026, 1, 4)) == 0


@time_machine.travel(TODAY, tick=False)
def test_sessions_of_another_discipline_do_not_count_towards_a_plan(
    therapist, patient_a, log_session
):
    services.create_therapy_plan(
        patient=patient_a,
        by=therapist,
        discipline="psychology",
        goals="CBT for low mood",
        planned_sessions=6,
        frequency="fortnightly",
        starts_on=TODAY - timedelta(days=30),
    )
    log_session(TODAY - timedelta(days=3))  # physiotherapy
    [row] = services.plans_with_progress(patient=patient_a, today=TODAY)
    assert row.progress.done == 0


def test_a_plan_with_zero_sessions_is_refused_at_the_field(signed_in, therapist, patient_a):
    response = signed_in(therapist).post(
        reverse("rehab:new_plan", kwargs={"external_id": patient_a.external_id}),
        {
            "discipline": "physiotherapy",
            "goals": "x",
            "planned_sessions": "0",
            "frequency": "weekly",
            "starts_on": "2026-01-01",
        },
    )
    assert response.status_code == 422
    assert 'id="id_planned_sessions_error">' in response.content.decode()


@time_machine.travel(TODAY, tick=False)
def test_the_rehab_panel_draws_trends_on_the_dmt_time_axis(
    rf_user, patient_a, log_session, monkeypatch
):
    # A stand-in for the DMT app's period source, declared for this test only.
    def a_dmt_course(patient):
        return [ChartPeriod(TODAY - timedelta(days=400), None, "Ocrelizumab")]

    monkeypatch.setattr(timeline, "_period_sources", lambda: [a_dmt_course])
    log_session(TODAY - timedelta(days=30), {"bbs": {"total": "50"}})
    panel = panel_for(rf_user, patient_a, "rehab-panel")
    html = render_to_string(panel.template, panel.context)
    assert html.lstrip().startswith('<div class="panel-body">')  # the patient page wraps it
    assert "Berg Balance Scale" in html
    assert "Ocrelizumab" in html  # the DMT period band behind the chart


def test_the_referral_panel_lists_open_referrals_with_their_deadline(
    rf_user, patient_a, make_referral
):
    make_referral("sent", urgency="urgent")
    make_referral("cancelled", discipline="psychology")
    panel = panel_for(rf_user, patient_a, "referral-panel")
    html = render_to_string(panel.template, panel.context)
    assert "Physiotherapy" in html
    assert "response due" in html
    assert "Psychology" not in html


@time_machine.travel(TODAY, tick=False)
def test_sessions_and_referral_steps_appear_on_the_timeline(patient_a, log_session, make_referral):
    log_session(TODAY, {"t25fw": {"trial_1": "6", "trial_2": "6"}})
    make_referral("accepted")
    kinds = {(e.kind, e.title) for e in timeline_for(patient_a)}
    assert ("rehab", "Physiotherapy session (45 min)") in kinds
    assert ("referral", "Referral to Physiotherapy accepted") in kinds
    assert ("referral", "Referral to Physiotherapy sent") in kinds


@pytest.fixture
def rf_user(therapist):
    request = RequestFactory().get("/")
    request.user = therapist
    return request


# -- another team's patient ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["neurologist", "nurse", "therapist"])
def test_another_teams_rehab_pages_are_404_with_no_data(who, cast, signed_in, patient_b, team_b):
    physio_b = UserFactory(
        username="physio.b", role="therapist", discipline="physiotherapy", teams=[team_b]
    )
    services.log_session(
        patient=patient_b,
        by=physio_b,
        held_on=date.today() - timedelta(days=1),
        duration_minutes=30,
        discipline="physiotherapy",
        setting="clinic",
        interventions=[],
        goals="Bob's private goal",
    )
    client = signed_in(cast[who])
    for url in (
        rehab_url(patient_b),
        reverse("rehab:new_session", kwargs={"external_id": patient_b.external_id}),
        reverse("rehab:new_plan", kwargs={"external_id": patient_b.external_id}),
    ):
        response = client.get(url)
        expected = 404 if who == "therapist" or url == rehab_url(patient_b) else 403
        assert response.status_code == expected, url
        body = response.content.decode()
        assert "Baker" not in body
        assert "private goal" not in body


def test_a_therapist_cannot_log_a_session_for_another_teams_patient(
    signed_in, therapist, patient_b
):
    response = signed_in(therapist).post(
        reverse("rehab:new_session", kwargs={"external_id": patient_b.external_id}),
        {
            "held_on": "2026-01-01",
            "duration_minutes": "30",
            "discipline": "physiotherapy",
            "setting": "clinic",
        },
    )
    assert response.status_code == 404
