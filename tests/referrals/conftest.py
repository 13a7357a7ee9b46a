"""Referral fixtures: extra therapists on team A and a referral factory that walks the real
state machine to any state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.accounts.models import CareTeam, Discipline, Role, User
from patients.models import Patient, Referral, ReferralDiscipline, Urgency
from patients.referrals import services
from tests.factories import UserFactory

# The steps (action, who) that take a freshly sent referral to each state.
PATHS: dict[str, list[tuple[str, str]]] = {
    "sent": [],
    "triaged": [("triage", "receiver")],
    "accepted": [("accept", "receiver")],
    "declined": [("decline", "receiver")],
    "scheduled": [("accept", "receiver"), ("schedule", "receiver")],
    "in_progress": [("accept", "receiver"), ("start", "receiver")],
    "completed": [("accept", "receiver"), ("start", "receiver"), ("complete", "receiver")],
    "acknowledged": [
        ("accept", "receiver"),
        ("start", "receiver"),
        ("complete", "receiver"),
        ("acknowledge", "referrer"),
    ],
    "cancelled": [("cancel", "referrer")],
}


def details_for(action: str) -> dict[str, object]:
    """What each step needs, filled in."""
    return {
        "decline": {"reason": "Already under community physiotherapy."},
        "cancel": {"reason": "Patient moved out of area."},
        "schedule": {"scheduled_on": timezone.localdate() + timedelta(days=7)},
        "complete": {"summary": "Six sessions of balance work; Berg 41 to 47. Home programme."},
    }.get(action, {})


@pytest.fixture
def occupational_therapist(team_a: CareTeam) -> User:
    return UserFactory(
        username="ot.ortiz",
        first_name="Olive",
        last_name="Ortiz",
        role=Role.THERAPIST,
        discipline=Discipline.OCCUPATIONAL_THERAPY,
        teams=[team_a],
    )


@pytest.fixture
def make_referral(
    patient_a: Patient, neurologist: User, therapist: User
) -> Callable[..., Referral]:
    def _make(
        state: str = "sent",
        *,
        patient: Patient | None = None,
        by: User | None = None,
        discipline: str = ReferralDiscipline.PHYSIOTHERAPY,
        urgency: str = Urgency.ROUTINE,
        receiver: User | None = None,
    ) -> Referral:
        referrer = by or neurologist
        referral = services.send_referral(
            patient=patient or patient_a,
            discipline=discipline,
            urgency=urgency,
            reason="Falls twice this month; please assess balance.",
            by=referrer,
            allow_duplicate=True,
        )
        for action, side in PATHS[state]:
            actor = (receiver or therapist) if side == "receiver" else referrer
            referral = services.transition_referral(
                referral=referral,
                action=action,
                by=actor,
                **details_for(action),  # type: ignore[arg-type]
            )
        assert referral.state == state
        return referral

    return _make
