"""The response clock: working days from sending, breaches, and the sweep's query."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from patients.models import Referral, ReferralTarget
from patients.models.referrals import add_working_days
from patients.referrals import services

LONDON = ZoneInfo("Europe/London")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def test_working_days_skip_the_weekend():
    # Friday 15:00 + 2 working days = Tuesday 15:00.
    assert add_working_days(at(2026, 3, 13, 15, 0), 2) == at(2026, 3, 17, 15, 0)


def test_a_referral_sent_at_the_weekend_counts_from_monday():
    # Saturday 10:00 + 1 working day = Monday 10:00.
    assert add_working_days(at(2026, 3, 14, 10, 0), 1) == at(2026, 3, 16, 10, 0)


def test_working_days_keep_the_clinic_clock_time_across_the_clocks_changing():
    # British Summer Time starts on Sunday 29 March 2026: the deadline stays at 09:00 local.
    due = add_working_days(at(2026, 3, 27, 9, 0), 1)
    assert timezone.localtime(due).hour == 9
    assert due == at(2026, 3, 30, 9, 0)


def test_seeded_targets_give_urgent_two_and_routine_ten_working_days(db):
    physio = dict(
        ReferralTarget.objects.filter(discipline="physiotherapy").values_list(
            "urgency", "working_days"
        )
    )
    assert physio == {"urgent": 2, "soon": 5, "routine": 10}


@time_machine.travel(at(2026, 3, 13, 15, 0), tick=False)
def test_an_urgent_referral_is_due_two_working_days_after_sending(make_referral):
    referral = make_referral("sent", urgency="urgent")
    assert referral.due_at == at(2026, 3, 17, 15, 0)
    assert referral.target_working_days == 2


def test_editing_a_target_changes_new_referrals_but_not_running_clocks(make_referral):
    before = make_referral("sent", urgency="urgent")
    ReferralTarget.objects.filter(discipline="physiotherapy", urgency="urgent").update(
        working_days=1
    )
    after = make_referral("sent", urgency="urgent")
    before.refresh_from_db()
    assert (before.target_working_days, after.target_working_days) == (2, 1)


def test_a_referral_is_breached_once_its_deadline_passes_without_a_response(make_referral):
    with time_machine.travel(at(2026, 3, 13, 15, 0), tick=False):
        referral = make_referral("sent", urgency="urgent")
    assert not referral.is_breached(at(2026, 3, 17, 14, 59))
    assert referral.is_breached(at(2026, 3, 17, 15, 1))
    assert referral.clock_text(at(2026, 3, 17, 13, 0)) == "2 h 0 min left"
    assert referral.clock_text(at(2026, 3, 18, 20, 0)) == "overdue by 1 day 5 h"


def test_a_triaged_referral_is_still_on_the_clock(make_referral):
    with time_machine.travel(at(2026, 3, 13, 15, 0), tick=False):
        referral = make_referral("triaged", urgency="urgent")
    assert referral.is_breached(at(2026, 3, 18, 9, 0))


@pytest.mark.parametrize("state", ["accepted", "declined", "cancelled", "completed"])
def test_a_referral_answered_or_closed_is_never_breached(state, make_referral):
    with time_machine.travel(at(2026, 3, 13, 15, 0), tick=False):
        referral = make_referral(state, urgency="urgent")
    assert not referral.is_breached(at(2026, 4, 30, 9, 0))
    assert referral.clock_text(at(2026, 4, 30, 9, 0)) == ""


def test_an_answer_after_the_deadline_is_kept_as_late(cast, make_referral):
    with time_machine.travel(at(2026, 3, 13, 15, 0), tick=False):
        referral = make_referral("sent", urgency="urgent")
    with time_machine.travel(at(2026, 3, 18, 9, 0), tick=False):
        referral = services.accept_referral(referral=referral, by=cast["therapist"])
    assert referral.responded_late


def test_the_breached_query_finds_only_referrals_waiting_past_their_deadline(make_referral):
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False):
        late = make_referral("sent", urgency="urgent")
        late_triaged = make_referral("triaged", urgency="urgent")
        make_referral("accepted", urgency="urgent")
        make_referral("cancelled", urgency="urgent")
        make_referral("sent", urgency="routine")  # due 16 March
    found = set(Referral.objects.breached(at=at(2026, 3, 10, 9, 0)))
    assert found == {late, late_triaged}


def test_the_breached_query_uses_the_partial_due_index(make_referral):
    from django.db import connection

    sql, params = Referral.objects.breached(at=timezone.now()).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "referral_awaiting_due" in plan


def test_breaches_are_found_for_a_given_moment_not_only_now(make_referral):
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False):
        referral = make_referral("sent", urgency="urgent")
    assert not Referral.objects.breached(at=at(2026, 3, 4, 8, 0)).exists()
    assert list(Referral.objects.breached(at=at(2026, 3, 4, 10, 0))) == [referral]
    assert timedelta(0) < referral.due_at - referral.sent_at
