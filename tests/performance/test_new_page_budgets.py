"""Query budgets of the pages added after the hot pages (tests/performance/test_query_budgets.py).

Team A's clinicians open each page once with two rows on it and once with eight: the lab review
queue and the message log, the infusion day, the overdue supportive care reviews, the MDT
meetings, a meeting's list and the nurse's MDT actions, the notifications page and the compact
alert inbox. Each page's count is pinned, and it is the same at both sizes: nothing is loaded
per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import CareTeam, User
from patients.mdt import services as mdt
from patients.models import MdtMeeting, Patient
from tests.alerts.test_alert_lifecycle import overdue_spec
from tests.alerts.test_triage import referral_spec
from tests.factories import PatientFactory
from tests.labimport.messages import lft_panel, obr, obx, oru
from tests.treatments.conftest import TODAY, StartPlan, eu_clinic, start_plan, today  # noqa: F401
from treatments.alerts import services as alerts
from treatments.infusions import services as infusions
from treatments.labimport import services as labimport
from treatments.models import AlertGrade, Channel
from treatments.supportive import services as supportive

pytestmark = pytest.mark.django_db

# Every page below costs two statements whatever it shows: the user (the session is read from
# Redis) and the nav bar's alert count. A page that shows patients adds their access record
# (one statement for all of them, see clinic.audit.services). What each page adds to that:

# The open items counted for the pager, then one page of them with their messages and patients.
LAB_QUEUE_BUDGET = 5
# The messages counted for the pager, then one page of them; no patient shown, nothing audited.
LAB_MESSAGES_BUDGET = 4
# The day's visits with their patients, plans and recorders.
INFUSION_DAY_BUDGET = 4
# The overdue goals with their patients and owners.
SUPPORTIVE_OVERDUE_BUDGET = 4
# The coming meetings, then the recent ones, each with its team and its count of patients.
MDT_MEETINGS_BUDGET = 4
# The meeting with its team and the record of opening it, the cases with their patients and
# clinicians, the cases' actions with their assignees, the attendees.
MDT_MEETING_BUDGET = 8
# The open actions with their patients and meetings.
MDT_ACTIONS_BUDGET = 4
# The digest preference, the emails with their alerts, the digests, the escalated alerts.
NOTIFICATIONS_BUDGET = 7
# One page of alerts with their patients, grouped in Python (as the inbox's list, pinned in
# tests/performance/test_query_budgets.py): the page's ids and total, then its rows.
COMPACT_INBOX_BUDGET = 5

ROWS = pytest.mark.parametrize("rows", [2, 8], ids=["2-rows", "8-rows"])


def _second_visit(client: Client, url: str) -> tuple[int, HttpResponse]:
    """The queries of a second GET of the page (the first, after sign-in, may refresh the
    session), and the page itself."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), response


@pytest.fixture
def team_patients(
    team_a: CareTeam, neurologist: User, nurse: User
) -> Callable[[int], list[Patient]]:
    """`n` more patients of team A, under its neurologist and nurse."""

    def _patients(n: int) -> list[Patient]:
        return [
            PatientFactory(care_team=team_a, neurologist=neurologist, nurse=nurse) for _ in range(n)
        ]

    return _patients


# Lab import ------------------------------------------------------------------------------------


@pytest.fixture
def held_messages(
    nurse: User,
    team_patients: Callable[[int], list[Patient]],
    django_capture_on_commit_callbacks: Any,
) -> Callable[[int], None]:
    """`n` lab messages that wait in the review queue: half for MRNs nobody in Myelin has, half
    for team A's patients with a code the clinic has not mapped."""

    def _hold(n: int) -> None:
        text = "".join(
            oru(*lft_panel(filler=f"F{i:04d}"), control_id=f"MSG{i:04d}", mrn=f"ZZZ{i:05d}")
            if i % 2 == 0
            else oru(
                obr(1, f"F{i:04d}", "LIV^Liver^L"),
                obx(1, "ALTX^ALT local^L", "30", "U/L", "7-56"),
                control_id=f"MSG{i:04d}",
                mrn=patient.mrn,
                born=patient.date_of_birth,
            )
            for i, patient in enumerate(team_patients(n))
        )
        with django_capture_on_commit_callbacks(execute=True):
            summary = labimport.receive(text=text, channel=Channel.UPLOAD, by=nurse)
        assert len(summary.outcomes) == n

    return _hold


@ROWS
@pytest.mark.parametrize(
    ("url_name", "budget"),
    [("labimport:queue", LAB_QUEUE_BUDGET), ("labimport:messages", LAB_MESSAGES_BUDGET)],
    ids=["review-queue", "message-log"],
)
def test_the_lab_pages_stay_within_budget_whatever_was_received(
    url_name: str,
    budget: int,
    rows: int,
    nurse: User,
    signed_in: Any,
    held_messages: Callable[[int], None],
) -> None:
    held_messages(rows)

    queries, page = _second_visit(signed_in(nurse), reverse(url_name))

    assert len(page.context["page"]) == rows
    assert queries == budget


# Infusions -------------------------------------------------------------------------------------


@ROWS
def test_the_infusion_day_stays_within_budget_whatever_the_infusions(
    rows: int,
    eu_clinic: Any,  # noqa: F811
    start_plan: StartPlan,  # noqa: F811
    team_patients: Callable[[int], list[Patient]],
    nurse: User,
    signed_in: Any,
) -> None:
    for patient in team_patients(rows):
        plan = start_plan(patient, "ocrelizumab_iv", TODAY - timedelta(days=200))
        infusions.open_visit(plan=plan, infusion_on=TODAY, by=nurse)

    url = reverse("treatments:infusion_day") + f"?on={TODAY.isoformat()}"
    queries, page = _second_visit(signed_in(nurse), url)

    assert len(page.context["visits"]) == rows
    assert queries == INFUSION_DAY_BUDGET


# Supportive care -------------------------------------------------------------------------------

GOALS_SET_ON = date(2026, 12, 1)


@ROWS
def test_overdue_supportive_reviews_stay_within_budget_whatever_is_overdue(
    rows: int, team_patients: Callable[[int], list[Patient]], nurse: User, signed_in: Any
) -> None:
    with time_machine.travel(GOALS_SET_ON, tick=False):
        for patient in team_patients(rows):
            supportive.set_goal(
                patient=patient,
                area="heat",
                goal="Cooling vest for summer",
                owner=nurse,
                started_on=GOALS_SET_ON,
                review_on=GOALS_SET_ON + timedelta(days=30),
                by=nurse,
            )

    with time_machine.travel(GOALS_SET_ON + timedelta(days=40), tick=False):
        queries, page = _second_visit(signed_in(nurse), reverse("supportive:overdue"))

    assert len(page.context["goals"]) == rows
    assert queries == SUPPORTIVE_OVERDUE_BUDGET


# MDT -------------------------------------------------------------------------------------------


@pytest.fixture
def mdt_day() -> Iterator[date]:
    with time_machine.travel(date(2026, 12, 1), tick=False):
        yield date(2026, 12, 1)


@pytest.fixture
def plan_meeting(team_a: CareTeam, neurologist: User, nurse: User) -> Callable[[date], MdtMeeting]:
    def _plan(held_on: date) -> MdtMeeting:
        return mdt.plan_meeting(
            care_team=team_a,
            held_on=held_on,
            title="Team A MDT",
            attendees=[neurologist, nurse],
            by=neurologist,
        )

    return _plan


@ROWS
def test_the_mdt_meetings_stay_within_budget_whatever_the_meetings(
    rows: int,
    mdt_day: date,
    plan_meeting: Callable[[date], MdtMeeting],
    team_patients: Callable[[int], list[Patient]],
    neurologist: User,
    signed_in: Any,
) -> None:
    # Every other one coming, the others held, each with a patient on its list.
    for i, patient in enumerate(team_patients(rows)):
        meeting = plan_meeting(mdt_day + timedelta(weeks=(i + 1) * (1 if i % 2 else -1)))
        mdt.add_case(meeting=meeting, patient=patient, question="Escalate?", by=neurologist)

    queries, page = _second_visit(signed_in(neurologist), reverse("mdt:meetings"))

    assert len(page.context["coming"]) + len(page.context["past"]) == rows
    assert queries == MDT_MEETINGS_BUDGET


@ROWS
def test_an_mdt_meeting_stays_within_budget_whatever_its_list(
    rows: int,
    mdt_day: date,
    plan_meeting: Callable[[date], MdtMeeting],
    team_patients: Callable[[int], list[Patient]],
    neurologist: User,
    nurse: User,
    signed_in: Any,
) -> None:
    meeting = plan_meeting(mdt_day - timedelta(days=1))
    for patient in team_patients(rows):
        case = mdt.add_case(meeting=meeting, patient=patient, question="?", by=nurse)
        mdt.record_outcome(case=case, discussion="", decision="Continue", by=neurologist)
        mdt.add_action(
            case=case, description="Review", assigned_to=nurse, due_on=mdt_day, by=neurologist
        )

    queries, page = _second_visit(signed_in(neurologist), meeting.get_absolute_url())

    assert len(page.context["cases"]) == rows
    assert queries == MDT_MEETING_BUDGET


@ROWS
def test_my_mdt_actions_stay_within_budget_whatever_the_actions(
    rows: int,
    mdt_day: date,
    plan_meeting: Callable[[date], MdtMeeting],
    team_patients: Callable[[int], list[Patient]],
    neurologist: User,
    nurse: User,
    signed_in: Any,
) -> None:
    meeting = plan_meeting(mdt_day - timedelta(days=1))
    for i, patient in enumerate(team_patients(rows)):
        case = mdt.add_case(meeting=meeting, patient=patient, question="?", by=neurologist)
        mdt.add_action(
            case=case,
            description="Book MRI",
            assigned_to=nurse,
            due_on=meeting.held_on + timedelta(days=i),  # the first one overdue
            by=neurologist,
        )

    queries, page = _second_visit(signed_in(nurse), reverse("mdt:actions"))

    assert len(page.context["actions"]) == rows
    assert queries == MDT_ACTIONS_BUDGET


# Notifications ---------------------------------------------------------------------------------


@ROWS
def test_the_notifications_page_stays_within_budget_whatever_was_sent(
    rows: int,
    team_a: CareTeam,
    team_patients: Callable[[int], list[Patient]],
    neurologist: User,
    signed_in: Any,
    settings: Any,
) -> None:
    """The neurologist leads his team: each critical alert of his is emailed to him, escalated
    to him when nobody acknowledges it, and counted in his digest, one a day."""
    neurologist.email = "neuro@example.org"
    neurologist.save()
    team_a.lead_neurologist = neurologist
    team_a.save()
    for i, patient in enumerate(team_patients(rows)):
        alerts.raise_alerts([overdue_spec(patient, i, grade=AlertGrade.CRITICAL)])
    alerts.send_critical_alert_emails()
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES + 1)
    alerts.escalate_unacknowledged(at=later)
    digest_time = time(settings.ALERT_DIGEST_HOUR, 5, tzinfo=timezone.get_current_timezone())
    for day in range(1, rows + 1):
        on = timezone.localdate() + timedelta(days=day)
        assert alerts.send_daily_digests(at=datetime.combine(on, digest_time)) == 1

    queries, page = _second_visit(signed_in(neurologist), reverse("notifications:page"))

    sent = page.context["sent"]
    assert (len(sent.emails), len(sent.escalated), len(sent.digests)) == (2 * rows, rows, rows)
    assert queries == NOTIFICATIONS_BUDGET


# The compact alert inbox ----------------------------------------------------------------------


@ROWS
def test_the_compact_inbox_stays_within_budget_whatever_the_alerts(
    rows: int, team_patients: Callable[[int], list[Patient]], nurse: User, signed_in: Any
) -> None:
    # Two alerts a patient, of two kinds: a test overdue and a referral not answered.
    patients = team_patients(rows // 2)
    alerts.raise_alerts(
        [overdue_spec(patient, 2 * i) for i, patient in enumerate(patients)]
        + [referral_spec(patient, 2 * i + 1, nurse) for i, patient in enumerate(patients)]
    )

    url = reverse("alerts:inbox") + "?layout=compact"
    queries, page = _second_visit(signed_in(nurse), url)

    assert len(page.context["rows"]) == rows
    assert len(page.context["groups"]) == rows // 2
    assert queries == COMPACT_INBOX_BUDGET
