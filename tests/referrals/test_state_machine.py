"""The referral state machine, exhaustively: every step from every state, by every side."""

from __future__ import annotations

import pytest

from clinic.audit.models import AccessEvent, Category
from patients.models import TRANSITIONS, Referral, ReferralEvent, ReferralState
from patients.referrals import services
from tests.referrals.conftest import PATHS, details_for

ALLOWED = [
    (state, action)
    for action, step in TRANSITIONS.items()
    for state in ReferralState.values
    if state in step.sources
]
WRONG_STATE = [
    (state, action)
    for action, step in TRANSITIONS.items()
    for state in ReferralState.values
    if state not in step.sources
]


def right_user(action: str, cast: dict, referral: Referral):
    return cast["therapist"] if TRANSITIONS[action].side == "receiver" else referral.referred_by


def snapshot(referral: Referral) -> tuple:
    referral.refresh_from_db()
    return (referral.state, referral.updated_at, referral.steps.count())


def test_every_state_is_reachable_by_the_table():
    assert set(PATHS) == set(ReferralState.values)


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_each_allowed_step_by_the_right_side_moves_the_referral(state, action, cast, make_referral):
    referral = make_referral(state)
    user = right_user(action, cast, referral)
    steps_before = referral.steps.count()

    moved = services.transition_referral(
        referral=referral, action=action, by=user, note="", **details_for(action)
    )

    assert moved.state == TRANSITIONS[action].target
    event = moved.steps.order_by("-id").first()
    assert (event.from_state, event.to_state, event.by, event.action) == (
        state,
        TRANSITIONS[action].target,
        user,
        action,
    )
    assert moved.steps.count() == steps_before + 1
    assert AccessEvent.objects.filter(
        category=Category.REFERRAL, object_id=str(referral.pk), action="update", user=user
    ).exists()


@pytest.mark.parametrize(("state", "action"), WRONG_STATE)
def test_each_step_from_a_wrong_state_is_refused_and_changes_nothing(
    state, action, cast, make_referral
):
    referral = make_referral(state)
    user = right_user(action, cast, referral)
    before = snapshot(referral)

    with pytest.raises(services.ReferralRefused) as refused:
        services.transition_referral(
            referral=referral, action=action, by=user, **details_for(action)
        )

    assert f"is {ReferralState(state).label.lower()}, so it cannot be" in refused.value.message
    assert snapshot(referral) == before


RECEIVER_STEPS = [a for a, t in TRANSITIONS.items() if t.side == "receiver"]
REFERRER_STEPS = [a for a, t in TRANSITIONS.items() if t.side == "referrer"]


def a_state_allowing(action: str) -> str:
    return sorted(TRANSITIONS[action].sources)[0]


@pytest.mark.parametrize("action", RECEIVER_STEPS)
@pytest.mark.parametrize("who", ["neurologist", "nurse", "occupational_therapist"])
def test_receiving_steps_are_refused_to_anyone_but_the_receiving_discipline(
    action, who, cast, occupational_therapist, make_referral
):
    user = occupational_therapist if who == "occupational_therapist" else cast[who]
    referral = make_referral(a_state_allowing(action))
    before = snapshot(referral)

    with pytest.raises(services.ReferralRefused) as refused:
        services.transition_referral(
            referral=referral, action=action, by=user, **details_for(action)
        )

    assert refused.value.message.startswith("Only the receiving discipline can")
    assert snapshot(referral) == before


@pytest.mark.parametrize("action", REFERRER_STEPS)
@pytest.mark.parametrize("who", ["therapist", "occupational_therapist"])
def test_referrer_steps_are_refused_to_therapists_who_did_not_refer(
    action, who, cast, occupational_therapist, make_referral
):
    user = occupational_therapist if who == "occupational_therapist" else cast[who]
    referral = make_referral(a_state_allowing(action))
    before = snapshot(referral)

    with pytest.raises(services.ReferralRefused) as refused:
        services.transition_referral(
            referral=referral, action=action, by=user, **details_for(action)
        )

    assert refused.value.message.startswith("Only the referrer or the patient's neurologists")
    assert snapshot(referral) == before


@pytest.mark.parametrize("action", REFERRER_STEPS)
def test_a_nurse_on_the_team_may_cancel_or_acknowledge_a_neurologists_referral(
    action, cast, make_referral
):
    referral = make_referral(a_state_allowing(action))
    moved = services.transition_referral(
        referral=referral, action=action, by=cast["nurse"], **details_for(action)
    )
    assert moved.state == TRANSITIONS[action].target


def test_a_therapist_who_referred_may_cancel_their_own_referral(
    cast, occupational_therapist, make_referral
):
    referral = make_referral(
        "sent",
        by=cast["therapist"],
        receiver=occupational_therapist,
        discipline="occupational_therapy",
    )
    moved = services.cancel_referral(referral=referral, by=cast["therapist"], reason="Not needed")
    assert moved.state == ReferralState.CANCELLED


def test_the_ms_nurse_service_is_received_by_nurses(cast, make_referral):
    referral = make_referral("sent", discipline="ms_nurse", receiver=cast["nurse"])
    assert services.accept_referral(referral=referral, by=cast["nurse"]).state == "accepted"
    with pytest.raises(services.ReferralRefused):
        services.start_referral(referral=referral, by=cast["therapist"])


def test_services_outside_the_team_are_recorded_by_neurologists_and_nurses(cast, make_referral):
    referral = make_referral("sent", discipline="ophthalmology", receiver=cast["nurse"])
    assert services.accept_referral(referral=referral, by=cast["neurologist"]).state == "accepted"
    with pytest.raises(services.ReferralRefused):
        services.start_referral(referral=referral, by=cast["therapist"])


def test_a_clinician_of_another_team_is_refused_even_with_the_right_role(cast, make_referral):
    referral = make_referral("completed")
    with pytest.raises(services.ReferralRefused, match="not in your care teams"):
        services.acknowledge_referral(referral=referral, by=cast["other_neurologist"])
    referral.refresh_from_db()
    assert referral.state == ReferralState.COMPLETED


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        ("sent", "decline", "Give a reason."),
        ("sent", "cancel", "Give a reason."),
        ("accepted", "schedule", "Give the appointment date."),
        ("in_progress", "complete", "Write a summary for the referrer."),
    ],
)
def test_a_step_missing_what_it_needs_is_refused(state, action, message, cast, make_referral):
    referral = make_referral(state)
    user = right_user(action, cast, referral)
    with pytest.raises(services.ReferralRefused, match=message):
        services.transition_referral(referral=referral, action=action, by=user)
    referral.refresh_from_db()
    assert referral.state == state


def test_an_unknown_step_is_refused(cast, make_referral):
    referral = make_referral("sent")
    with pytest.raises(services.ReferralRefused, match="not something a referral can do"):
        services.transition_referral(referral=referral, action="teleport", by=cast["therapist"])


def test_the_database_refuses_a_declined_referral_without_a_reason(make_referral):
    from django.db import IntegrityError, transaction

    referral = make_referral("sent")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(state="declined")


def test_sending_records_the_first_event_and_an_audit_entry(cast, make_referral):
    referral = make_referral("sent")
    [event] = ReferralEvent.objects.filter(referral=referral)
    assert (event.action, event.from_state, event.to_state, event.by) == (
        "send",
        "",
        "sent",
        cast["neurologist"],
    )
    assert AccessEvent.objects.filter(
        category=Category.REFERRAL, action="create", object_id=str(referral.pk)
    ).exists()
