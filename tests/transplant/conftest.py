"""aHSCT fixtures: the treatments clinic day (15 June 2026, EU labels), Alice, 32, highly active
relapsing MS, and a referral to a transplant centre walked through the real state machine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from clinic.accounts.models import User
from patients.models import Patient, Referral, ReferralDiscipline
from patients.referrals import services as referrals
from tests.treatments.conftest import eu_clinic, start_plan, today  # noqa: F401


@pytest.fixture
def alice(patient_a: Patient, request: pytest.FixtureRequest) -> Patient:
    request.getfixturevalue("today")
    request.getfixturevalue("eu_clinic")
    patient_a.sex = "female"
    patient_a.date_of_birth = date(1994, 3, 2)
    patient_a.diagnosis_on = date(2021, 4, 1)
    patient_a.save(update_fields=["sex", "date_of_birth", "diagnosis_on"])
    return patient_a


@pytest.fixture
def transplant_referral(alice: Patient, nurse: User, neurologist: User) -> Callable[..., Referral]:
    """A referral to a transplant centre sent `days_ago`, taken to `state`: the centre is
    outside the team, so the neurologist records its answers."""

    def _make(state: str = "accepted", days_ago: int = 200) -> Referral:
        referral = referrals.send_referral(
            patient=alice,
            discipline=ReferralDiscipline.TRANSPLANT_CENTRE,
            urgency="soon",
            reason="Relapses on natalizumab; MRI activity. Assessment for aHSCT.",
            by=nurse,
        )
        sent = timezone.now() - timedelta(days=days_ago)
        Referral.objects.filter(pk=referral.pk).update(sent_at=sent)
        referral.refresh_from_db()
        steps = {"sent": [], "accepted": ["accept"], "scheduled": ["accept", "schedule"]}[state]
        for action in steps:
            extra = {"scheduled_on": timezone.localdate()} if action == "schedule" else {}
            referral = referrals.transition_referral(
                referral=referral, action=action, by=neurologist, **extra
            )
        return referral

    return _make


def moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))
