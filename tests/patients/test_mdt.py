"""MDT meetings: Team A plans a meeting, puts Alice on its list with a question, records what it
decided and gives the nurse an action, which waits in her list until she marks it done.
Team B never sees any of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts.models import Role, User
from clinic.audit.models import AccessEvent, Action, Category
from patients.mdt import services as mdt
from patients.models import MdtAction, MdtCase, MdtMeeting, Patient
from tests.conftest import sign_in
from tests.factories import PatientFactory, UserFactory, patient_timeline

TODAY = date(2026, 12, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 12, 1), tick=False):
        yield


@pytest.fixture
def meeting(neurologist: User, nurse: User) -> MdtMeeting:
    return mdt.plan_meeting(
        care_team=neurologist.care_teams.get(),
        held_on=TODAY + timedelta(days=3),
        title="Thursday MDT",
        attendees=[neurologist, nurse],
        by=neurologist,
    )


@pytest.fixture
def held_meeting(neurologist: User, nurse: User) -> MdtMeeting:
    return mdt.plan_meeting(
        care_team=neurologist.care_teams.get(),
        held_on=TODAY - timedelta(days=1),
        title="Monday MDT",
        attendees=[neurologist, nurse],
        by=neurologist,
    )


@pytest.fixture
def alice_case(held_meeting: MdtMeeting, patient_a: Patient, neurologist: User) -> MdtCase:
    return mdt.add_case(
        meeting=held_meeting,
        patient=patient_a,
        question="Escalate to high-efficacy therapy after two relapses?",
        by=neurologist,
    )


# Planning a meeting ----------------------------------------------------------------------------


def test_a_nurse_plans_a_meeting_of_her_team_with_its_attendees(
    signed_in, nurse, neurologist, team_a
):
    response = signed_in(nurse).post(
        reverse("mdt:meeting_new"),
        {
            "care_team": team_a.pk,
            "held_on": "2026-12-10",
            "title": "December MDT",
            "attendees": [nurse.pk, neurologist.pk],
        },
    )
    meeting = MdtMeeting.objects.get()
    assert response.status_code == 302
    assert meeting.held_on == date(2026, 12, 10)
    assert set(meeting.attendees.all()) == {nurse, neurologist}
    assert AccessEvent.objects.filter(
        category=Category.MDT, action=Action.CREATE, object_id=str(meeting.pk)
    ).exists()


def test_an_impossible_meeting_date_is_refused_at_the_field(signed_in, nurse, team_a):
    response = signed_in(nurse).post(
        reverse("mdt:meeting_new"),
        {"care_team": team_a.pk, "held_on": "0202-12-10", "title": "MDT"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["held_on"] == ["Enter a date from 1900 onwards."]
    assert not MdtMeeting.objects.exists()


def test_someone_of_another_team_cannot_attend(neurologist, other_neurologist, team_a):
    with pytest.raises(mdt.MdtRefused) as refused:
        mdt.plan_meeting(
            care_team=team_a,
            held_on=TODAY,
            title="MDT",
            attendees=[neurologist, other_neurologist],
            by=neurologist,
        )
    assert refused.value.field == "attendees"
    assert "Bea Novak" in refused.value.message


def test_a_therapist_may_not_plan_a_meeting(signed_in, therapist):
    response = signed_in(therapist).get(reverse("mdt:meeting_new"))
    assert response.status_code == 403


# The list of patients ---------------------------------------------------------------------------


def test_a_patient_is_added_from_their_page_with_a_question(
    signed_in, therapist, patient_a, meeting
):
    client = signed_in(therapist)
    page = client.get(patient_a.get_absolute_url()).content.decode()
    add_url = reverse("mdt:case_add", args=[patient_a.external_id])
    assert add_url in page  # the "Add to MDT" button of the patient header
    response = client.post(add_url, {"meeting": meeting.pk, "question": "Walking aid needed?"})
    assert response.status_code == 302
    assert response["Location"] == patient_a.get_absolute_url()
    case = MdtCase.objects.get()
    assert (case.meeting, case.patient, case.question) == (
        meeting,
        patient_a,
        "Walking aid needed?",
    )


def test_the_caseload_offers_to_add_a_patient_to_the_mdt(signed_in, neurologist, patient_a):
    page = signed_in(neurologist).get(reverse("caseload:page")).content.decode()
    assert reverse("mdt:case_add", args=[patient_a.external_id]) in page


def test_the_same_patient_twice_on_one_meeting_is_refused_at_the_field(
    signed_in, nurse, patient_a, meeting
):
    client = signed_in(nurse)
    url = reverse("mdt:case_add", args=[patient_a.external_id])
    client.post(url, {"meeting": meeting.pk, "question": "First question"})
    response = client.post(url, {"meeting": meeting.pk, "question": "Second question"})
    assert response.status_code == 422
    assert "already on the list" in response.context["form"].errors["meeting"][0]
    assert MdtCase.objects.count() == 1


def test_a_patient_goes_only_to_their_own_teams_meetings(team_a, team_b, patient_b, meeting):
    # A neurologist in both teams still cannot put team B's patient on team A's meeting.
    both = UserFactory(username="dr.both", role=Role.NEUROLOGIST, teams=[team_a, team_b])
    with pytest.raises(mdt.MdtRefused) as refused:
        mdt.add_case(meeting=meeting, patient=patient_b, question="?", by=both)
    assert refused.value.field == "meeting"


def test_the_meeting_page_lists_its_patients_and_audits_each(
    signed_in, nurse, alice_case, held_meeting, patient_a
):
    body = signed_in(nurse).get(held_meeting.get_absolute_url()).content.decode()
    assert "Alice" in body
    assert "Escalate to high-efficacy" in body
    assert AccessEvent.objects.filter(
        patient=patient_a, category=Category.MDT, action=Action.LIST
    ).exists()


# Outcome and actions ----------------------------------------------------------------------------


def test_a_decision_cannot_be_recorded_before_the_meeting(
    signed_in, neurologist, patient_a, meeting
):
    case = mdt.add_case(meeting=meeting, patient=patient_a, question="?", by=neurologist)
    response = signed_in(neurologist).post(
        reverse("mdt:case", args=[case.pk]), {"decision": "Start natalizumab"}
    )
    assert response.status_code == 422
    assert (
        "record what it decided on or after"
        in response.context["outcome_form"].errors["decision"][0]
    )
    case.refresh_from_db()
    assert case.decision == ""


def test_the_decision_is_recorded_and_appears_on_the_timeline(
    signed_in, neurologist, alice_case, patient_a
):
    client = signed_in(neurologist)
    response = client.post(
        reverse("mdt:case", args=[alice_case.pk]),
        {"discussion": "Two relapses in a year.", "decision": "Switch to natalizumab"},
    )
    assert response.status_code == 302
    alice_case.refresh_from_db()
    assert alice_case.decided_by == neurologist
    assert "MDT decision: Switch to natalizumab" in patient_timeline(client, patient_a)


def test_an_action_due_before_the_meeting_is_refused_at_the_field(
    signed_in, neurologist, nurse, alice_case
):
    response = signed_in(neurologist).post(
        reverse("mdt:action_new", args=[alice_case.pk]),
        {
            "description": "Check JCV",
            "assigned_to": nurse.pk,
            "due_on": (TODAY - timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert "before the meeting" in response.context["action_form"].errors["due_on"][0]
    assert not MdtAction.objects.exists()


def test_an_action_cannot_go_to_another_team(neurologist, other_neurologist, alice_case):
    with pytest.raises(mdt.MdtRefused) as refused:
        mdt.add_action(
            case=alice_case,
            description="Check JCV",
            assigned_to=other_neurologist,
            due_on=TODAY,
            by=neurologist,
        )
    assert refused.value.field == "assigned_to"


def test_an_action_waits_in_the_assignees_list_until_done(
    signed_in, neurologist, nurse, alice_case, patient_a
):
    mdt.add_action(
        case=alice_case,
        description="Check JCV index",
        assigned_to=nurse,
        due_on=TODAY + timedelta(days=7),
        by=neurologist,
    )
    client = signed_in(nurse)
    inbox = client.get(reverse("alerts:inbox")).content.decode()
    assert reverse("mdt:actions") in inbox  # the inbox loads the block below into itself
    block = client.get(reverse("mdt:actions"), headers={"HX-Request": "true"}).content.decode()
    assert "Check JCV index" in block
    # The neurologist who assigned it has nothing in their own list.
    theirs = sign_in(Client(), neurologist).get(reverse("mdt:actions")).content.decode()
    assert "Check JCV index" not in theirs

    action = MdtAction.objects.get()
    response = client.post(reverse("mdt:action_done", args=[action.pk]), {"note": "Sent"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.done_by == nurse
    assert action.done_note == "Sent"
    assert AccessEvent.objects.filter(
        user=nurse, patient=patient_a, category=Category.MDT, detail="MDT action marked done"
    ).exists()
    after = client.get(reverse("mdt:actions"), headers={"HX-Request": "true"}).content.decode()
    assert "Check JCV index" not in after
    assert "MDT action done: Check JCV index" in patient_timeline(client, patient_a)


def test_an_action_is_marked_done_once(neurologist, nurse, alice_case):
    action = mdt.add_action(
        case=alice_case, description="Book MRI", assigned_to=nurse, due_on=TODAY, by=neurologist
    )
    mdt.complete_action(action=action, by=nurse)
    with pytest.raises(mdt.MdtRefused, match="already marked done"):
        mdt.complete_action(action=action, by=neurologist)
    assert AccessEvent.objects.filter(detail="MDT action marked done").count() == 1


def test_an_overdue_action_is_flagged(signed_in, neurologist, nurse, alice_case):
    mdt.add_action(
        case=alice_case, description="Book MRI", assigned_to=nurse, due_on=TODAY, by=neurologist
    )
    with time_machine.travel(date(2026, 12, 5), tick=False):
        block = signed_in(nurse).get(reverse("mdt:actions")).content.decode()
    assert "Overdue" in block


# Scope ------------------------------------------------------------------------------------------


def test_another_team_gets_404_for_the_meeting_and_its_case(
    signed_in, other_neurologist, alice_case, held_meeting
):
    client = signed_in(other_neurologist)
    for url in (held_meeting.get_absolute_url(), reverse("mdt:case", args=[alice_case.pk])):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Archer" not in response.content
    assert "Monday MDT" not in client.get(reverse("mdt:meetings")).content.decode()


def test_the_meeting_page_and_timeline_do_not_grow_with_the_list(
    signed_in, neurologist, nurse, held_meeting, patient_a, team_a
):
    def add_patients(count: int) -> None:
        for _ in range(count):
            patient = PatientFactory(care_team=team_a, neurologist=neurologist)
            case = mdt.add_case(meeting=held_meeting, patient=patient, question="?", by=nurse)
            mdt.record_outcome(case=case, discussion="", decision="Continue", by=neurologist)
            mdt.add_action(
                case=case, description="Review", assigned_to=nurse, due_on=TODAY, by=neurologist
            )

    client = signed_in(neurologist)
    urls = [held_meeting.get_absolute_url(), reverse("mdt:actions")]

    def counts() -> list[int]:
        found = []
        for url in urls:
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            found.append(len(queries.captured_queries))
        return found

    add_patients(1)
    before = counts()
    add_patients(5)
    assert counts() == before

    def timeline_count() -> int:
        with CaptureQueriesContext(connection) as queries:
            list(mdt.mdt_timeline(patient_a))
        return len(queries.captured_queries)

    case = mdt.add_case(meeting=held_meeting, patient=patient_a, question="?", by=nurse)
    mdt.add_action(case=case, description="A", assigned_to=nurse, due_on=TODAY, by=neurologist)
    assert timeline_count() == 2  # the cases with their meetings, then their actions
