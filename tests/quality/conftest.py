"""A small clinic whose quality figures were counted by hand (see each comment).

Today is 15 June 2026; the period asked about is 1 January to 31 May 2026. Team A: Alice (on
natalizumab, and the general care plan), Carol (teriflunomide), Dave and Gina (no drug), Eve
(transferred away). Team B: Bob (teriflunomide).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from patients.models import EdssAssessment, Patient, PatientStatus, Referral
from tests.factories import PatientFactory
from treatments.catalogue.services import protocol_version_for
from treatments.models import (
    Alert,
    AlertGrade,
    AlertKind,
    AlertStatus,
    CarePlan,
    ItemStatus,
    MonitoringItem,
)
from treatments.plans.services import plan_dmt

TODAY = date(2026, 6, 15)
START, END = date(2026, 1, 1), date(2026, 5, 31)
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.get_current_timezone())):
        yield


@dataclass
class Clinic:
    alice: Patient
    carol: Patient
    dave: Patient
    gina: Patient
    eve: Patient
    bob: Patient


def at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def item(owner: Any, investigation: str, closes: date, status: str, done: date | None = None):
    """One monitoring item of a DMT plan or a care plan, its window closing on ``closes``."""
    is_plan = not isinstance(owner, CarePlan)
    return MonitoringItem.objects.create(
        patient=owner.patient,
        plan=owner if is_plan else None,
        care_plan=None if is_plan else owner,
        protocol_version=owner.protocol_version,
        rule_key=f"quality.{investigation}",
        investigation=investigation,
        anchor="first_dose",
        anchor_on=date(2025, 1, 1),
        occurrence=MonitoringItem.objects.count(),
        due_on=closes - timedelta(days=7),
        window_opens_on=closes - timedelta(days=14),
        window_closes_on=closes,
        status=status,
        completed_on=done,
        waived_reason="Done elsewhere" if status == ItemStatus.WAIVED else "",
        cancelled_reason="Plan stopped" if status == ItemStatus.CANCELLED else "",
        explanation="Quality fixture",
    )


def edss(patient: Patient, on: date) -> EdssAssessment:
    return EdssAssessment.objects.create(
        patient=patient,
        assessed_on=on,
        visual=0,
        brainstem=0,
        pyramidal=1,
        cerebellar=0,
        sensory=1,
        bowel_bladder=0,
        cerebral=0,
        ambulation=0,
        step="1.5",
        fs_step="1.5",
        rule="Quality fixture",
    )


def referral(patient, discipline, sent, due, responded=None, state="sent", **extra):
    return Referral.objects.create(
        patient=patient,
        discipline=discipline,
        reason="Quality fixture",
        referred_by=patient.neurologist,
        state=state,
        sent_at=at(sent),
        target_working_days=10,
        due_at=at(due),
        responded_at=at(responded) if responded else None,
        **extra,
    )


def abnormal(patient, raised: datetime, n: int, **extra) -> Alert:
    return Alert.objects.create(
        patient=patient,
        kind=extra.pop("kind", AlertKind.ABNORMAL_RESULT),
        grade=AlertGrade.WARNING,
        condition_key=f"quality:{n}",
        title="Abnormal result",
        created_at=raised,
        **extra,
    )


@pytest.fixture
def clinic(patient_a, patient_b, neurologist, nurse, other_neurologist, team_a) -> Clinic:
    def member(**extra: Any) -> Patient:
        return PatientFactory(care_team=team_a, neurologist=neurologist, nurse=nurse, **extra)

    alice, bob = patient_a, patient_b
    carol, dave, gina = member(), member(), member()
    eve = member(status=PatientStatus.TRANSFERRED)

    natalizumab = plan_dmt(patient=alice, drug_key="natalizumab_iv", by=neurologist)
    care = CarePlan.objects.create(
        patient=alice,
        protocol_version=protocol_version_for(drug_key="general", region="EU", on=TODAY),
        anchor_on=date(2025, 1, 1),
        anchor_label="Diagnosis",
        tracking_from=date(2025, 1, 1),
    )
    carol_teri = plan_dmt(patient=carol, drug_key="teriflunomide", by=neurologist)
    bob_teri = plan_dmt(patient=bob, drug_key="teriflunomide", by=other_neurologist)

    # Alice, natalizumab: MRI on time (1) and late by 10 days (2); JCV on time (3) and still
    # open 26 days after its window (4); a waived LFT (5) and one closing after the period (6)
    # are not counted.
    item(natalizumab, "mri_brain", date(2026, 2, 10), ItemStatus.DONE_IN_WINDOW, date(2026, 2, 5))
    item(natalizumab, "mri_brain", date(2026, 4, 10), ItemStatus.DONE_LATE, date(2026, 4, 20))
    item(natalizumab, "jcv_antibody", date(2026, 3, 1), ItemStatus.DONE_IN_WINDOW, date(2026, 3, 1))
    item(natalizumab, "jcv_antibody", date(2026, 5, 20), ItemStatus.SCHEDULED)
    item(natalizumab, "lft", date(2026, 5, 31), ItemStatus.WAIVED)
    item(natalizumab, "lft", date(2026, 6, 20), ItemStatus.SCHEDULED)
    # Alice, general care plan: a yearly MRI on time (7); a review closing before the period (8).
    item(care, "mri_brain", date(2026, 1, 15), ItemStatus.DONE_IN_WINDOW, date(2026, 1, 10))
    item(care, "neuro_review", date(2025, 12, 20), ItemStatus.SCHEDULED)
    # Carol, teriflunomide: LFTs on time (9), 3 days late (10), open 76 days (11), cancelled (12).
    item(carol_teri, "lft", date(2026, 1, 31), ItemStatus.DONE_IN_WINDOW, date(2026, 1, 30))
    item(carol_teri, "lft", date(2026, 2, 28), ItemStatus.DONE_LATE, date(2026, 3, 3))
    item(carol_teri, "lft", date(2026, 3, 31), ItemStatus.SCHEDULED)
    item(carol_teri, "lft", date(2026, 4, 30), ItemStatus.CANCELLED)
    # Bob (team B): an LFT open 120 days (13).
    item(bob_teri, "lft", date(2026, 2, 15), ItemStatus.SCHEDULED)

    # EDSS up to 31 May 2026 counts from 31 May 2025 on. Alice twice (the later one takes over
    # without counting her twice), Dave exactly 12 months before (counts), Carol a day earlier
    # (does not), Gina never; Eve is not active.
    edss(alice, date(2025, 6, 10))
    edss(alice, date(2026, 3, 1))
    edss(dave, date(2025, 5, 31))
    edss(carol, date(2025, 5, 30))
    edss(eve, date(2026, 1, 5))

    # Referrals sent in the period: in target (R1), late (R2), waiting past the deadline (R3);
    # not yet due (R4), cancelled before an answer (R5) and sent before the period (R6) are not
    # counted. Bob's late one (R7) is team B's.
    referral(
        alice, "physiotherapy", date(2026, 1, 10), date(2026, 1, 24), date(2026, 1, 20), "accepted"
    )
    referral(
        alice,
        "occupational_therapy",
        date(2026, 2, 10),
        date(2026, 2, 24),
        date(2026, 3, 1),
        "accepted",
    )
    referral(carol, "physiotherapy", date(2026, 3, 10), date(2026, 3, 24))
    referral(carol, "physiotherapy", date(2026, 5, 30), date(2026, 6, 20))
    referral(
        dave,
        "physiotherapy",
        date(2026, 4, 1),
        date(2026, 4, 15),
        state="cancelled",
        cancel_reason="Moved away",
    )
    referral(
        alice, "physiotherapy", date(2025, 12, 20), date(2026, 1, 5), date(2026, 1, 2), "accepted"
    )
    referral(
        bob, "physiotherapy", date(2026, 2, 1), date(2026, 2, 15), date(2026, 2, 20), "accepted"
    )

    # Abnormal-result alerts: acknowledged after 2 h (A1), resolved by a person after 24 h with
    # no acknowledgement (A2), acknowledged after 4 h (A3), cleared by itself (A4), still waiting
    # (A5); an overdue-monitoring alert (A6) is another kind.
    abnormal(
        alice,
        at(date(2026, 2, 1)),
        1,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_at=at(date(2026, 2, 1), 10),
    )
    abnormal(
        alice,
        at(date(2026, 3, 1)),
        2,
        status=AlertStatus.RESOLVED,
        resolved_at=at(date(2026, 3, 2)),
    )
    abnormal(
        carol,
        at(date(2026, 3, 10)),
        3,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_at=at(date(2026, 3, 10), 12),
    )
    abnormal(
        carol,
        at(date(2026, 4, 1)),
        4,
        status=AlertStatus.RESOLVED,
        resolved_at=at(date(2026, 4, 3)),
        resolved_automatically=True,
    )
    abnormal(dave, at(date(2026, 5, 10)), 5)
    abnormal(alice, at(date(2026, 5, 11)), 6, kind=AlertKind.OVERDUE_MONITORING)
    return Clinic(alice, carol, dave, gina, eve, bob)
