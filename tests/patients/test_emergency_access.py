"""Break glass (issue #13, finding 3).

Dr Bea Novak (team B) is pre-authorised for emergency access. Alice Archer (team A) arrives in
A&E while team A cannot be reached: Dr Novak opens Alice's record. The grant is read-only,
shown on the page and listed apart; it ends at once when Dr Novak loses the right; a reason
must be a reason; requests are limited per day whether or not the MRN exists, and the answer
does not say whether it does; the clinic admins hear once per burst, not once per request.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.audit.access import READ_ONLY_MESSAGE
from clinic.audit.models import AccessEvent, Action
from patients.emergency import services
from patients.models import EmergencyAccess, Patient, Relapse
from tests.security.world import build_side
from treatments.models import AlertStatus

REASON = "Seen in A&E with new weakness; team A unreachable."


@pytest.fixture
def dr_novak(other_neurologist: Any) -> Any:
    other_neurologist.can_break_glass = True
    other_neurologist.save(update_fields=["can_break_glass"])
    return other_neurologist


@pytest.fixture
def admin_with_email(admin_user: Any) -> Any:
    admin_user.email = "admin@example.org"
    admin_user.save(update_fields=["email"])
    return admin_user


def break_glass(client: Any, mrn: str, reason: str = REASON) -> Any:
    return client.post(reverse("emergency:access"), {"mrn": mrn, "reason": reason})


def sees(user: Any, patient: Patient) -> bool:
    return Patient.objects.visible_to(user).filter(pk=patient.pk).exists()


# --- removing the right ---------------------------------------------------------------------


def test_removing_the_right_ends_a_live_grant_at_once(dr_novak, patient_a):
    services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)
    assert sees(dr_novak, patient_a)

    # Whoever turns the flag off (the admin pages, the Django admin, a script), the grant is
    # gone with it: scoping only counts grants of users who still have the right.
    dr_novak.can_break_glass = False
    dr_novak.save(update_fields=["can_break_glass"])

    assert not sees(dr_novak, patient_a)


def test_deactivating_the_account_ends_its_grants(dr_novak, patient_a):
    services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)
    type(dr_novak).objects.filter(pk=dr_novak.pk).update(is_active=False)
    # Even through a stale user object: the rule is read from the database.
    assert not EmergencyAccess.objects.live().filter(user=dr_novak).exists()


def test_ending_the_grants_is_for_good_and_audited(dr_novak, patient_a, admin_user):
    services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)

    ended = services.end_emergency_access(user=dr_novak, by=admin_user, why="right removed")

    assert ended == 1
    assert not sees(dr_novak, patient_a)  # still holding the right, the grant stays ended
    assert AccessEvent.objects.filter(
        user=admin_user, patient=patient_a, detail__contains="ended: right removed"
    ).exists()


# --- read-only --------------------------------------------------------------------------------


@pytest.fixture
def novak_opened_alice(dr_novak, patient_a, signed_in):
    client = signed_in(dr_novak)
    client.raise_request_exception = False
    assert break_glass(client, patient_a.mrn).status_code == 302
    return client


def test_a_grant_lets_the_record_be_read(novak_opened_alice, patient_a):
    assert novak_opened_alice.get(patient_a.get_absolute_url()).status_code == 200


def test_a_grant_cannot_change_the_record(novak_opened_alice, patient_a):
    response = novak_opened_alice.post(
        reverse("patients:relapse_add", kwargs={"external_id": patient_a.external_id}),
        {"onset_on": "2026-01-05", "symptoms": "Numb", "severity": "mild"},
    )
    assert response.status_code == 403
    assert READ_ONLY_MESSAGE in response.content.decode()
    assert not Relapse.objects.exists()


def test_a_grant_cannot_act_on_the_patients_alerts_or_results(
    novak_opened_alice, patient_a, neurologist
):
    side = build_side(patient_a, neurologist, "a")
    acknowledged = novak_opened_alice.post(
        reverse("alerts:acknowledge", kwargs={"alert_id": side.alert.pk})
    )
    reviewed = novak_opened_alice.post(
        reverse("treatments:result_review", kwargs={"result_id": side.result.pk})
    )
    side.alert.refresh_from_db()
    side.result.refresh_from_db()
    assert (acknowledged.status_code, reviewed.status_code) == (403, 403)
    assert side.alert.status == AlertStatus.OPEN
    assert side.result.reviewed_at is None


def test_a_grant_cannot_refer_the_patient(novak_opened_alice, patient_a):
    response = novak_opened_alice.post(
        reverse("referrals:new", kwargs={"external_id": patient_a.external_id}),
        {"discipline": "physiotherapy", "urgency": "routine", "reason": "Walking worse"},
    )
    assert response.status_code == 403
    assert not patient_a.referrals.exists()


def test_the_care_team_still_changes_the_record(neurologist, patient_a, signed_in):
    response = signed_in(neurologist).post(
        reverse("patients:relapse_add", kwargs={"external_id": patient_a.external_id}),
        {
            "onset_on": str(timezone.localdate()),
            "symptoms": "Numb",
            "severity": "mild",
            "recovery": "unknown",
            "treatment": "none",
        },
    )
    assert response.status_code == 302


# --- what the user sees -----------------------------------------------------------------------


def test_the_patient_page_shows_a_banner_while_the_grant_is_live(novak_opened_alice, patient_a):
    page = novak_opened_alice.get(patient_a.get_absolute_url()).content.decode()
    assert 'id="emergency-banner"' in page
    assert "read-only until" in page
    assert "Edit record" not in page


def test_the_care_team_sees_no_banner(neurologist, patient_a, signed_in):
    page = signed_in(neurologist).get(patient_a.get_absolute_url()).content.decode()
    assert 'id="emergency-banner"' not in page


def test_granted_patients_are_listed_apart_from_the_teams_patients(
    novak_opened_alice, patient_a, patient_b
):
    page = novak_opened_alice.get(reverse("patients:list"))
    body = page.content.decode()
    section = body[body.index('id="emergency-access"') : body.index('id="patient-table"')]
    table = body[body.index('id="patient-table"') :]
    assert "ARCHER, Alice" in section
    assert "ARCHER, Alice" not in table
    assert "BAKER, Bob" in table
    assert "BAKER, Bob" not in section


def test_a_granted_patient_is_in_no_caseload(novak_opened_alice, patient_a):
    page = novak_opened_alice.get(reverse("caseload:page"), {"scope": "teams"})
    assert "ARCHER" not in page.content.decode()


# --- the reason -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    ["urgent", "aaaaaaaaaaaaaaaaaaaaaaaa", "........................", "asdf asdf asdf asdf"],
)
def test_a_reason_must_be_a_reason(reason, dr_novak, patient_a, signed_in):
    response = break_glass(signed_in(dr_novak), patient_a.mrn, reason)
    assert response.status_code == 422
    assert not EmergencyAccess.objects.exists()


def test_the_reason_rule_in_words():
    assert services.reason_problem("x" * 40) is not None
    assert services.reason_problem("Seen in A&E with new weakness") is None


# --- the daily limit --------------------------------------------------------------------------


def test_requests_are_limited_per_user_per_day(dr_novak, patient_a, signed_in, settings):
    settings.BREAK_GLASS_PER_DAY = 3
    client = signed_in(dr_novak)
    answers = [break_glass(client, patient_a.mrn).status_code for _ in range(4)]

    assert answers == [302, 302, 302, 429]
    refused = break_glass(client, patient_a.mrn).content.decode()
    assert "the most allowed (3)" in refused
    assert EmergencyAccess.objects.filter(user=dr_novak).count() == 3


def test_the_limit_frees_up_after_24_hours(dr_novak, patient_a, settings):
    settings.BREAK_GLASS_PER_DAY = 1
    services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)
    with pytest.raises(services.EmergencyAccessRefused):
        services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)


def test_an_mrn_that_matches_nobody_counts_towards_the_limit(dr_novak, patient_a, settings):
    # Otherwise guessing MRNs would be free, and the limit would only count the hits.
    settings.BREAK_GLASS_PER_DAY = 1
    services.request_emergency_access(user=dr_novak, mrn="NOSUCH01", reason=REASON)
    with pytest.raises(services.EmergencyAccessRefused):
        services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)
    assert not sees(dr_novak, patient_a)


# --- the MRN is not revealed ----------------------------------------------------------------


def test_the_answer_is_the_same_whether_or_not_the_mrn_exists(dr_novak, patient_a, signed_in):
    client = signed_in(dr_novak)

    def answer(mrn: str) -> tuple[int, str, list[str]]:
        response = break_glass(client, mrn)
        followed = client.get(response["Location"])
        said = [
            # What differs is only the MRN typed and the requests left, which counts both.
            re.sub(r"\d+ more allowed", "N more allowed", str(m).replace(mrn, "<MRN>"))
            for m in followed.context["messages"]
        ]
        return response.status_code, response["Location"], said

    with time_machine.travel(timezone.now(), tick=False):
        assert answer(patient_a.mrn) == answer("NOSUCH01")
    # Only the real MRN opened anything; both requests are in the audit trail.
    assert EmergencyAccess.objects.live().filter(user=dr_novak).count() == 1
    assert AccessEvent.objects.filter(user=dr_novak, action=Action.BREAK_GLASS).count() == 2


def test_the_form_never_says_no_patient_has_the_mrn(dr_novak, signed_in):
    response = break_glass(signed_in(dr_novak), "NOSUCH01")
    assert response.status_code == 302
    assert "No patient" not in response.content.decode()


# --- telling the admins -----------------------------------------------------------------------


def test_the_admins_hear_once_per_burst_not_once_per_request(
    dr_novak, patient_a, patient_b, admin_with_email, settings, django_capture_on_commit_callbacks
):
    settings.BREAK_GLASS_PER_DAY = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for mrn in (patient_a.mrn, "NOSUCH01", patient_a.mrn):
            with django_capture_on_commit_callbacks(execute=True):
                services.request_emergency_access(user=dr_novak, mrn=mrn, reason=REASON)
    # The first request is told at once; the two after it wait for the hour to pass.
    assert len(mail.outbox) == 1
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert services.notify_admins() == 0
    with time_machine.travel(start + timedelta(hours=1, minutes=1), tick=False):
        assert services.notify_admins() == 1
        assert services.notify_admins() == 0  # a second run sends nothing more

    second = mail.outbox[1]
    assert "2 time(s)" in second.body
    assert "matched no patient" in second.body
    assert "Archer" not in second.body
    assert patient_a.mrn not in second.body
    assert "A&E" not in second.body  # the reason carries clinical detail: not in email


def test_a_notice_claimed_but_never_sent_is_sent_later(dr_novak, patient_a, admin_with_email):
    services.request_emergency_access(user=dr_novak, mrn=patient_a.mrn, reason=REASON)
    # A sender claimed the notice and died before sending it.
    EmergencyAccess.objects.update(notice_claimed_at=timezone.now())

    assert services.notify_admins() == 0  # the claim is fresh: maybe it is still sending
    with time_machine.travel(timezone.now() + services.NOTICE_RETRY_AFTER + timedelta(minutes=1)):
        assert services.notify_admins() == 1
    assert len(mail.outbox) == 1
