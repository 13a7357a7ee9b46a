"""The referral pages: sending (and the duplicate offer), the detail page and its steps, the
board, the patient's list, and scope on every one of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AccessEvent, Category
from patients.models import Referral, ReferralState
from tests.factories import PatientFactory, UserFactory


def new_url(patient) -> str:
    return reverse("referrals:new", kwargs={"external_id": patient.external_id})


def act_url(referral, action: str) -> str:
    return reverse("referrals:act", kwargs={"referral_id": referral.external_id, "action": action})


REFERRAL = {
    "discipline": "physiotherapy",
    "urgency": "soon",
    "reason": "Two falls; assess balance.",
}


def test_a_neurologist_sends_a_referral_and_lands_on_it(signed_in, neurologist, patient_a):
    client = signed_in(neurologist)
    response = client.post(new_url(patient_a), REFERRAL)
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    assert (referral.state, referral.urgency, referral.referred_by) == ("sent", "soon", neurologist)


def test_a_referral_without_a_reason_is_shown_again_with_the_message_at_the_field(
    signed_in, neurologist, patient_a
):
    client = signed_in(neurologist)
    response = client.post(new_url(patient_a), {**REFERRAL, "reason": ""})
    assert response.status_code == 422
    assert 'id="id_reason_error"' in response.content.decode()
    assert response.context["form"]["urgency"].value() == "soon"
    assert not Referral.objects.exists()


def test_a_second_open_referral_to_a_discipline_offers_the_existing_one(
    signed_in, neurologist, patient_a, make_referral
):
    existing = make_referral("accepted")
    client = signed_in(neurologist)
    response = client.post(new_url(patient_a), REFERRAL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "already has an open referral to Physiotherapy" in body
    assert existing.get_absolute_url() in body
    assert "Create a new referral anyway" in body
    assert Referral.objects.count() == 1


def test_create_anyway_sends_the_second_referral(signed_in, neurologist, patient_a, make_referral):
    make_referral("accepted")
    client = signed_in(neurologist)
    response = client.post(new_url(patient_a), {**REFERRAL, "create_anyway": "1"})
    assert response.status_code == 302
    assert Referral.objects.count() == 2


def test_a_closed_referral_to_the_same_discipline_does_not_trigger_the_offer(
    signed_in, neurologist, patient_a, make_referral
):
    make_referral("acknowledged")
    response = signed_in(neurologist).post(new_url(patient_a), REFERRAL)
    assert response.status_code == 302


def test_the_therapist_sees_the_steps_they_may_take(signed_in, therapist, make_referral):
    referral = make_referral("sent")
    body = signed_in(therapist).get(referral.get_absolute_url()).content.decode()
    for label in ("Mark triaged", "Accept", "Decline"):
        assert f">{label}</button>" in body
    assert "Cancel referral" not in body


def test_the_referrer_sees_only_cancel_on_a_new_referral(signed_in, neurologist, make_referral):
    referral = make_referral("sent")
    body = signed_in(neurologist).get(referral.get_absolute_url()).content.decode()
    assert ">Cancel referral</button>" in body
    assert ">Accept</button>" not in body


def test_a_step_posted_by_form_moves_the_referral_and_redirects(
    signed_in, therapist, make_referral
):
    referral = make_referral("sent")
    response = signed_in(therapist).post(act_url(referral, "accept"), {"accept-note": "Will see"})
    referral.refresh_from_db()
    assert response.status_code == 302
    assert referral.state == ReferralState.ACCEPTED
    assert referral.steps.last().note == "Will see"


def test_a_step_posted_by_htmx_returns_the_refreshed_detail(signed_in, therapist, make_referral):
    referral = make_referral("sent")
    response = signed_in(therapist).post(
        act_url(referral, "triage"), {}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="referral-detail">')
    assert "Referral triaged." in body


def test_declining_without_a_reason_shows_the_message_next_to_the_field(
    signed_in, therapist, make_referral
):
    referral = make_referral("sent")
    response = signed_in(therapist).post(act_url(referral, "decline"), {"decline-reason": ""})
    referral.refresh_from_db()
    assert response.status_code == 422
    assert 'id="id_decline-reason_error"' in response.content.decode()
    assert referral.state == ReferralState.SENT


def test_scheduling_in_the_past_is_refused_at_the_field(signed_in, therapist, make_referral):
    referral = make_referral("accepted")
    yesterday = timezone.localdate() - timedelta(days=1)
    response = signed_in(therapist).post(
        act_url(referral, "schedule"), {"schedule-scheduled_on": yesterday.isoformat()}
    )
    assert response.status_code == 422
    assert "The appointment cannot be in the past." in response.content.decode()


def test_a_step_by_the_wrong_role_is_refused_with_a_message_and_nothing_changes(
    signed_in, neurologist, make_referral
):
    referral = make_referral("sent")
    response = signed_in(neurologist).post(act_url(referral, "accept"), {})
    referral.refresh_from_db()
    assert response.status_code == 409
    assert "Only the receiving discipline can mark this referral accepted." in (
        response.content.decode()
    )
    assert referral.state == ReferralState.SENT


def test_the_summary_is_shown_to_the_referrer_who_acknowledges_it(
    signed_in, neurologist, make_referral
):
    referral = make_referral("completed")
    client = signed_in(neurologist)
    body = client.get(referral.get_absolute_url()).content.decode()
    assert "Berg 41 to 47" in body
    client.post(act_url(referral, "acknowledge"), {})
    referral.refresh_from_db()
    assert referral.state == ReferralState.ACKNOWLEDGED


def test_opening_a_referral_is_written_to_the_access_trail(signed_in, therapist, make_referral):
    referral = make_referral("sent")
    signed_in(therapist).get(referral.get_absolute_url())
    assert AccessEvent.objects.filter(
        user=therapist, action="view", category=Category.REFERRAL, object_id=str(referral.pk)
    ).exists()


# -- the board ----------------------------------------------------------------------------


def test_the_therapist_board_lists_new_referrals_before_triaged_ones(
    signed_in, therapist, make_referral
):
    triaged = make_referral("triaged", urgency="urgent")
    new = make_referral("sent", urgency="routine")
    response = signed_in(therapist).get(reverse("referrals:board"))
    rows = [row.referral for row in response.context["rows"]]
    assert rows == [new, triaged]
    assert "<h1>Referral board</h1>" in response.content.decode()


def test_the_therapist_board_shows_only_their_discipline(
    signed_in, therapist, make_referral, occupational_therapist
):
    make_referral("sent", discipline="occupational_therapy", receiver=occupational_therapist)
    physio = make_referral("sent")
    response = signed_in(therapist).get(reverse("referrals:board"))
    assert [row.referral for row in response.context["rows"]] == [physio]


def test_a_breached_referral_is_highlighted_on_the_board(signed_in, therapist, make_referral):
    referral = make_referral("sent", urgency="urgent")
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=timezone.now() - timedelta(days=10), due_at=timezone.now() - timedelta(days=3)
    )
    body = signed_in(therapist).get(reverse("referrals:board")).content.decode()
    assert "referral-breached" in body
    assert "Breached" in body
    assert "overdue by 3 days" in body


def test_the_board_filters_by_state_and_urgency(signed_in, therapist, make_referral):
    make_referral("sent", urgency="routine")
    urgent = make_referral("accepted", urgency="urgent")
    client = signed_in(therapist)
    response = client.get(reverse("referrals:board"), {"state": "accepted", "urgency": "urgent"})
    assert [row.referral for row in response.context["rows"]] == [urgent]


def test_the_board_filter_answers_htmx_with_the_table_only(signed_in, therapist, make_referral):
    make_referral("sent")
    response = signed_in(therapist).get(
        reverse("referrals:board"), {"urgency": "routine"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="referral-table">')
    assert "<h1>" not in body


def test_the_filter_form_pushes_its_url_and_works_without_javascript(
    signed_in, therapist, make_referral
):
    body = signed_in(therapist).get(reverse("referrals:board")).content.decode()
    assert 'hx-push-url="true"' in body
    assert f'action="{reverse("referrals:board")}"' in body


def test_the_neurologists_board_lists_their_referrals_with_summaries_first(
    signed_in, neurologist, make_referral
):
    open_one = make_referral("accepted")
    done = make_referral("completed", discipline="physiotherapy")
    response = signed_in(neurologist).get(reverse("referrals:board"))
    assert response.context["view"] == "sent"
    assert [row.referral for row in response.context["rows"]] == [done, open_one]
    assert "Summary to acknowledge" in response.content.decode()


def test_the_nurse_board_shows_referrals_to_the_nurse_service(signed_in, nurse, make_referral):
    referral = make_referral("sent", discipline="ms_nurse", receiver=nurse)
    response = signed_in(nurse).get(reverse("referrals:board"))
    assert response.context["view"] == "inbox"
    assert [row.referral for row in response.context["rows"]] == [referral]


def test_the_board_records_one_list_entry_per_patient_shown(signed_in, therapist, make_referral):
    referral = make_referral("sent")
    signed_in(therapist).get(reverse("referrals:board"))
    assert (
        AccessEvent.objects.filter(
            user=therapist, action="list", category=Category.REFERRAL, patient=referral.patient
        ).count()
        == 1
    )


def _many_referrals(make_referral, team, count: int) -> None:
    for _ in range(count):
        make_referral("sent", patient=PatientFactory(care_team=team))


def test_the_board_query_count_does_not_grow_with_referrals(
    signed_in, therapist, make_referral, team_a, django_assert_max_num_queries
):
    client = signed_in(therapist)
    _many_referrals(make_referral, team_a, 2)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("referrals:board"))
    _many_referrals(make_referral, team_a, 30)
    with django_assert_max_num_queries(14) as many:
        client.get(reverse("referrals:board"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_admin_has_no_referral_board(signed_in, admin_user):
    assert signed_in(admin_user).get(reverse("referrals:board")).status_code == 403


# -- another team's patient ----------------------------------------------------------------


@pytest.fixture
def team_b_referral(other_neurologist, patient_b, team_b, make_referral):
    physio_b = UserFactory(
        username="physio.b", role=Role.THERAPIST, discipline="physiotherapy", teams=[team_b]
    )
    return make_referral("completed", patient=patient_b, by=other_neurologist, receiver=physio_b)


@pytest.mark.parametrize("who", ["neurologist", "nurse", "therapist"])
def test_another_teams_referral_pages_are_404_with_no_data(
    who, cast, signed_in, patient_b, team_b_referral
):
    client = signed_in(cast[who])
    urls = [
        team_b_referral.get_absolute_url(),
        reverse("referrals:patient", kwargs={"external_id": patient_b.external_id}),
        new_url(patient_b),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Baker" not in response.content.decode()
    response = client.post(act_url(team_b_referral, "acknowledge"), {})
    assert response.status_code == 404
    team_b_referral.refresh_from_db()
    assert team_b_referral.state == ReferralState.COMPLETED


def test_another_teams_referrals_never_reach_the_board(
    cast, signed_in, team_b_referral, make_referral
):
    response = signed_in(cast["therapist"]).get(reverse("referrals:board"), {"state": "all"})
    assert "Baker" not in response.content.decode()
    assert response.context["rows"] == []


def test_sending_a_referral_for_another_teams_patient_is_404(signed_in, neurologist, patient_b):
    response = signed_in(neurologist).post(new_url(patient_b), REFERRAL)
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_the_patients_referral_list_shows_every_referral(
    signed_in, nurse, patient_a, make_referral
):
    make_referral("cancelled")
    make_referral("sent", discipline="psychology")
    body = (
        signed_in(nurse)
        .get(reverse("referrals:patient", kwargs={"external_id": patient_a.external_id}))
        .content.decode()
    )
    assert "Psychology / neuropsychology" in body
    assert "Cancelled" in body
