"""Sweep fixtures: a fixed clinic instant and a quick way to give a patient monitoring items.

Items are written straight onto the patient's care plan (no protocol engine) so a test can put
exactly the windows it is about, by the hundred when it pins query counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from patients.models import Patient
from tests.referrals.conftest import make_referral  # noqa: F401  (fixture, re-exported)
from treatments.catalogue import services as catalogue_services
from treatments.models import GENERAL_DRUG_KEY, CarePlan, MonitoringItem, ProtocolVersion

# Noon UTC on Monday 15 June 2026: the same day (15 June) in London, where the clinic is.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)

_occurrence = count(1)

MakeItems = Callable[..., list[MonitoringItem]]


def care_plan_for(patient: Patient) -> CarePlan:
    found = CarePlan.objects.filter(patient=patient).first()
    if found is not None:
        return found
    version = ProtocolVersion.objects.filter(drug_key=GENERAL_DRUG_KEY).first()
    if version is None:  # a transactional test flushed the catalogue the migration loaded
        catalogue_services.load_catalogue()
        version = ProtocolVersion.objects.filter(drug_key=GENERAL_DRUG_KEY).first()
    assert version is not None
    return CarePlan.objects.create(
        patient=patient,
        protocol_version=version,
        anchor_on=date(2025, 1, 1),
        anchor_label="diagnosis",
        tracking_from=date(2025, 1, 1),
    )


def build_items(
    patient: Patient,
    n: int = 1,
    *,
    closes_on: date,
    due_on: date | None = None,
    status: str = "scheduled",
) -> list[MonitoringItem]:
    """`n` ALT checks for `patient` whose window closes on `closes_on` (due that day unless
    `due_on` says otherwise; the window opens a week before it)."""
    care_plan = care_plan_for(patient)
    due = due_on or closes_on
    return MonitoringItem.objects.bulk_create(
        MonitoringItem(
            patient=patient,
            care_plan=care_plan,
            protocol_version=care_plan.protocol_version,
            rule_key="alt_check",
            investigation="alt",
            anchor="first_dose",
            anchor_on=date(2025, 1, 1),
            occurrence=next(_occurrence),
            due_on=due,
            window_opens_on=due - timedelta(days=7),
            window_closes_on=closes_on,
            explanation="ALT monthly for the first six months (test).",
            source="Test label §4.4",
            status=status,
            booked_on=closes_on if status == "booked" else None,
            waived_reason="Not needed (test)." if status == "waived" else "",
            cancelled_reason="No longer due (test)." if status == "cancelled" else "",
        )
        for _ in range(n)
    )


@pytest.fixture
def make_items(db: None) -> MakeItems:
    return build_items
