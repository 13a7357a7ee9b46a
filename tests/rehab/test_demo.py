"""The demo data seeds referrals in every interesting state and months of rehab."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinic import demo
from patients import demo as patients_demo
from patients.models import Referral
from treatments.models import OutcomeMeasurement, TherapyPlan
from treatments.rehab import demo as rehab_demo


@pytest.fixture
def seeded(db):
    users = demo.seed_staff()
    patients_demo.seed(users)
    rehab_demo.seed(users)
    return users


def test_demo_has_one_breached_and_one_summary_awaiting_acknowledgement(seeded):
    assert Referral.objects.breached(at=timezone.now()).count() == 1
    assert Referral.objects.filter(state="completed").count() == 1
    assert Referral.objects.filter(state="declined").count() == 1


def test_demo_physio_walk_tests_show_one_meaningful_worsening(seeded):
    worse = OutcomeMeasurement.objects.filter(measure="t25fw", change="worse")
    assert worse.count() == 1
    assert OutcomeMeasurement.objects.filter(measure="bbs").count() == 5
    assert OutcomeMeasurement.objects.filter(measure__in=["sdmt", "mfis"]).count() == 2
    assert TherapyPlan.objects.count() == 1


def test_seeding_twice_adds_nothing(seeded):
    before = Referral.objects.count()
    rehab_demo.seed(seeded)
    assert Referral.objects.count() == before
