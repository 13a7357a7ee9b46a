"""The supportive care plan: Alice's team sets goals (vitamin D, mood, exercise, cognition), each
with an owner, a status and a review date; overdue reviews show on her page and in the team's
list; impossible dates and readings are refused at the field."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.audit.models import AccessEvent, Category
from patients.models import Patient
from tests.factories import patient_panel, patient_timeline
from treatments.models import GoalStatus, Result, SupportiveGoal
from treatments.protocols import investigations
from treatments.protocols.investigations import Investigation, InvestigationKind
from treatments.rehab import services as rehab
from treatments.supportive import rules
from treatments.supportive import services as supportive

TODAY = date(2026, 12, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 12, 1), tick=False):
        yield


def new_goal_url(patient: Patient) -> str:
    return reverse("supportive:goal_new", args=[patient.external_id])


def goal_form(owner, **changes) -> dict[str, object]:
    return {
        "area": "exercise",
        "goal": "Walk 20 minutes on most days",
        "owner": owner.pk,
        "started_on": TODAY.isoformat(),
        "review_on": (TODAY + timedelta(days=90)).isoformat(),
        **changes,
    }


@pytest.fixture
def set_goal(nurse, patient_a):
    def _set(area: str = "exercise", **extra) -> SupportiveGoal:
        return supportive.set_goal(
            patient=extra.pop("patient", patient_a),
            area=area,
            goal=extra.pop("goal", "A goal"),
            owner=extra.pop("owner", nurse),
            started_on=extra.pop("started_on", TODAY),
            review_on=extra.pop("review_on", TODAY + timedelta(days=30)),
            by=extra.pop("by", nurse),
            **extra,
        )

    return _set


# Rules, on their own --------------------------------------------------------------------------


def test_vitamin_d_in_ng_per_ml_is_stored_in_nmol_per_l():
    assert rules.vitamin_d_in_nmol("20", "ng/mL") == Decimal("49.9")
    assert rules.vitamin_d_in_nmol("75", "nmol/L") == Decimal("75.0")


def test_an_implausible_vitamin_d_level_is_refused():
    with pytest.raises(rules.RuleError, match="check the unit"):
        rules.vitamin_d_in_nmol("750", "ng/mL")  # 1872 nmol/L: typed in the wrong unit
    with pytest.raises(rules.RuleError):
        rules.vitamin_d_in_nmol("0", "nmol/L")


def test_screening_scores_stay_within_their_questionnaire():
    rules.check_screening_score("phq9", 27)
    rules.check_screening_score("hads_d", 21)
    with pytest.raises(rules.RuleError, match="0 to 27"):
        rules.check_screening_score("phq9", 28)
    with pytest.raises(rules.RuleError, match="0 to 21"):
        rules.check_screening_score("hads_a", 22)
    assert rules.screening_band("phq9", 12) == "Moderate"
    assert rules.screening_band("hads_d", 12) == ""  # no cut-off in the reference


def test_only_the_catalogues_vitamin_d_test_is_read():
    assert (
        rules.vitamin_d_investigation({"alt": Investigation("alt", "ALT", "numeric", "1742-6")})
        is None
    )
    assert (
        rules.vitamin_d_investigation(
            {"vitd": Investigation("vitd", "25-OH D", "numeric", "62292-8")}
        )
        == "vitd"
    )


def test_a_goal_is_overdue_only_while_in_progress_after_its_review_date():
    goal = SupportiveGoal(status=GoalStatus.ACTIVE, review_on=TODAY)
    assert not goal.is_review_overdue(on=TODAY)
    assert goal.days_overdue(on=TODAY + timedelta(days=3)) == 3
    goal.status = GoalStatus.ACHIEVED
    assert not goal.is_review_overdue(on=TODAY + timedelta(days=3))


# Setting a goal ---------------------------------------------------------------------------------


def test_a_therapist_sets_a_goal_shown_on_the_patient_page_and_timeline(
    signed_in, therapist, patient_a
):
    client = signed_in(therapist)
    response = client.post(new_goal_url(patient_a), goal_form(therapist))
    assert response.status_code == 302
    goal = SupportiveGoal.objects.get()
    assert (goal.owner, goal.status, goal.review_on) == (
        therapist,
        GoalStatus.ACTIVE,
        TODAY + timedelta(days=90),
    )
    assert AccessEvent.objects.filter(
        patient=patient_a,
        category=Category.SUPPORTIVE,
        detail="supportive care goal set (exercise)",
    ).exists()
    panel = patient_panel(client, patient_a, "supportive-panel")
    assert "Walk 20 minutes on most days" in panel
    assert "Theo Park" in panel
    assert "Supportive care goal: Exercise and physical activity" in patient_timeline(
        client, patient_a
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"started_on": "0026-12-01"}, "started_on", "before the patient's date of birth"),
        ({"review_on": "2026-11-20"}, "review_on", "comes after the day the goal is set"),
        (
            {"started_on": "2026-10-01", "review_on": "2026-11-01"},
            "review_on",
            "already passed",
        ),
        ({"started_on": "2026-12-05"}, "started_on", "today or on a past day"),
    ],
)
def test_impossible_goal_dates_are_refused_at_the_field(
    signed_in, nurse, patient_a, changes, field, message
):
    response = signed_in(nurse).post(new_goal_url(patient_a), goal_form(nurse, **changes))
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert not SupportiveGoal.objects.exists()


def test_one_goal_in_progress_per_area(signed_in, nurse, patient_a, set_goal):
    set_goal("exercise")
    response = signed_in(nurse).post(new_goal_url(patient_a), goal_form(nurse))
    assert response.status_code == 422
    assert "already in progress" in response.context["form"].errors["area"][0]


def test_the_owner_is_a_clinician_of_the_patients_team(other_neurologist, set_goal):
    with pytest.raises(supportive.SupportiveRefused) as refused:
        set_goal(owner=other_neurologist)
    assert refused.value.field == "owner"


def test_a_vitamin_d_goal_keeps_its_level_and_supplementation(signed_in, nurse, patient_a):
    form = goal_form(
        nurse,
        area="vitamin_d",
        goal="Level above the lab's range",
        vitamin_d_value="16",
        vitamin_d_unit="ng/mL",
        vitamin_d_measured_on="2026-11-20",
        supplementation="colecalciferol 1,000 IU daily",
    )
    client = signed_in(nurse)
    assert client.post(new_goal_url(patient_a), form).status_code == 302
    goal = SupportiveGoal.objects.get()
    assert (goal.vitamin_d_level, goal.supplementation) == (
        Decimal("39.9"),
        "colecalciferol 1,000 IU daily",
    )
    assert "39.9 nmol/L" in patient_panel(client, patient_a, "supportive-panel")


def test_a_vitamin_d_level_typed_in_the_wrong_unit_is_refused_at_the_field(
    signed_in, nurse, patient_a
):
    form = goal_form(
        nurse,
        area="vitamin_d",
        vitamin_d_value="500",
        vitamin_d_unit="ng/mL",
        vitamin_d_measured_on="2026-11-20",
    )
    response = signed_in(nurse).post(new_goal_url(patient_a), form)
    assert response.status_code == 422
    assert "check the unit" in response.context["form"].errors["vitamin_d_value"][0]


def test_the_latest_vitamin_d_result_is_read_when_the_catalogue_has_the_test(
    monkeypatch, signed_in, nurse, patient_a, set_goal
):
    # The shipped catalogue has no vitamin D test yet; a clinic that adds one (LOINC 62292-8)
    # sees its latest result beside the goal.
    vitd = Investigation("vitamin_d", "25-OH vitamin D", InvestigationKind.NUMERIC, "62292-8")
    monkeypatch.setitem(investigations.INVESTIGATIONS, "vitamin_d", vitd)
    set_goal("vitamin_d")
    Result.objects.create(
        patient=patient_a,
        investigation="vitamin_d",
        taken_on=TODAY - timedelta(days=3),
        recorded_by=nurse,
        note="42 nmol/L",
    )
    panel = patient_panel(signed_in(nurse), patient_a, "supportive-panel")
    assert "Latest lab result 28 Nov 2026" in panel


def test_a_mood_goal_keeps_its_phq9_score_and_band(signed_in, nurse, patient_a):
    form = goal_form(
        nurse,
        area="mood",
        goal="Psychology referral and follow-up",
        screening_tool="phq9",
        screening_score="12",
        screened_on="2026-11-30",
    )
    client = signed_in(nurse)
    assert client.post(new_goal_url(patient_a), form).status_code == 302
    assert "PHQ-9 12 (Moderate)" in patient_panel(client, patient_a, "supportive-panel")


def test_a_hads_score_out_of_range_is_refused_at_the_field(signed_in, nurse, patient_a):
    form = goal_form(
        nurse, area="mood", screening_tool="hads_a", screening_score="22", screened_on="2026-11-30"
    )
    response = signed_in(nurse).post(new_goal_url(patient_a), form)
    assert response.status_code == 422
    assert "0 to 21" in response.context["form"].errors["screening_score"][0]


def test_the_cognition_goal_shows_the_latest_sdmt(signed_in, nurse, therapist, patient_a, set_goal):
    set_goal("cognition")
    for day, correct in ((TODAY - timedelta(days=60), "50"), (TODAY - timedelta(days=5), "44")):
        rehab.log_session(
            patient=patient_a,
            by=therapist,
            held_on=day,
            duration_minutes=30,
            discipline="physiotherapy",
            setting="clinic",
            interventions=["balance"],
            measurements={"sdmt": {"correct": correct}},
        )
    panel = patient_panel(signed_in(nurse), patient_a, "supportive-panel")
    assert "Symbol Digit Modalities Test (oral) 44" in panel


# Reviews ----------------------------------------------------------------------------------------


def test_an_overdue_review_shows_on_the_panel_and_in_the_teams_list(
    signed_in, nurse, patient_a, set_goal
):
    set_goal("heat", goal="Cooling vest for summer")
    with time_machine.travel(date(2027, 1, 10), tick=False):
        client = signed_in(nurse)
        assert "1 review overdue" in patient_panel(client, patient_a, "supportive-panel")
        listing = client.get(reverse("supportive:overdue")).content.decode()
    assert "Cooling vest for summer" in listing


def test_a_review_moves_the_review_date_or_closes_the_goal(signed_in, nurse, patient_a, set_goal):
    goal = set_goal("smoking", goal="Stop smoking")
    client = signed_in(nurse)
    url = reverse("supportive:goal", args=[goal.pk])
    # Still in progress: the next review date is required, and after this review.
    response = client.post(url, {"reviewed_on": TODAY.isoformat(), "status": "active"})
    assert response.status_code == 422
    assert "next review date" in response.context["form"].errors["next_review_on"][0]
    next_on = (TODAY + timedelta(days=60)).isoformat()
    response = client.post(
        url, {"reviewed_on": TODAY.isoformat(), "status": "active", "next_review_on": next_on}
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.review_on == TODAY + timedelta(days=60)
    response = client.post(
        url, {"reviewed_on": TODAY.isoformat(), "status": "achieved", "note": "Quit"}
    )
    goal.refresh_from_db()
    assert (goal.status, goal.closed_on) == (GoalStatus.ACHIEVED, TODAY)
    assert "Supportive care review: Smoking cessation (achieved)" in patient_timeline(
        client, patient_a
    )


def test_a_review_in_the_future_is_refused_at_the_field(signed_in, nurse, set_goal):
    goal = set_goal()
    response = signed_in(nurse).post(
        reverse("supportive:goal", args=[goal.pk]),
        {"reviewed_on": "2026-12-09", "status": "achieved"},
    )
    assert response.status_code == 422
    assert "today or on a past day" in response.context["form"].errors["reviewed_on"][0]


def test_another_team_gets_404_for_the_plan_and_its_goals(
    signed_in, other_neurologist, patient_a, set_goal
):
    goal = set_goal()
    client = signed_in(other_neurologist)
    for url in (
        reverse("supportive:patient", args=[patient_a.external_id]),
        reverse("supportive:goal", args=[goal.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Archer" not in response.content


def test_the_panel_and_timeline_do_not_grow_with_the_plan(signed_in, nurse, patient_a, set_goal):
    client = signed_in(nurse)
    panel = reverse("patients:panel", args=[patient_a.external_id, "supportive-panel"])

    def count(url: str) -> int:
        client.get(url, headers={"HX-Request": "true"})
        with CaptureQueriesContext(connection) as queries:
            client.get(url, headers={"HX-Request": "true"})
        return len(queries.captured_queries)

    set_goal("exercise")
    before = count(panel)
    for area in ("heat", "fatigue", "bladder_bowel", "diet_weight"):
        goal = set_goal(area)
        supportive.review_goal(
            goal=goal,
            reviewed_on=TODAY,
            status="stopped",
            note="",
            next_review_on=None,
            by=nurse,
        )
    assert count(panel) == before
    with CaptureQueriesContext(connection) as queries:
        list(supportive.supportive_timeline(patient_a))
    assert len(queries.captured_queries) == 2
