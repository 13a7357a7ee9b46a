"""Demo referrals, rehab sessions and a therapy plan for the demo clinic's team A patients.

Everything goes through the real services (state machine, audit, change flags); referral
timestamps are then moved back so the clocks read as they would have. Dates are relative to
today. `manage.py seed_demo` calls :func:`seed` after the patients are seeded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from clinic.accounts.models import User
from patients.models import Patient, Referral, ReferralEvent
from patients.models.referrals import add_working_days
from patients.referrals import services as referrals
from treatments.models import RehabSession
from treatments.rehab import services as rehab


def _referral(
    *,
    patient: Patient,
    by: User,
    discipline: str,
    urgency: str,
    reason: str,
    days_ago: int,
    steps: list[tuple[str, User, dict[str, Any]]],
) -> Referral:
    """Send a referral and take its steps, then spread its history over the past ``days_ago``
    days (sent first, one step a day after)."""
    referral = referrals.send_referral(
        patient=patient,
        discipline=discipline,
        urgency=urgency,
        reason=reason,
        by=by,
        allow_duplicate=True,
    )
    for action, actor, details in steps:
        referral = referrals.transition_referral(
            referral=referral, action=action, by=actor, **details
        )
    sent_at = timezone.now() - timedelta(days=days_ago)
    events = list(referral.steps.order_by("id"))
    for index, event in enumerate(events):
        ReferralEvent.objects.filter(pk=event.pk).update(
            at=min(sent_at + timedelta(days=index), timezone.now())
        )
    times = {
        e.action: min(sent_at + timedelta(days=i), timezone.now()) for i, e in enumerate(events)
    }
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=sent_at,
        due_at=add_working_days(sent_at, referral.target_working_days),
        responded_at=times.get("accept") or times.get("decline"),
        completed_at=times.get("complete"),
        acknowledged_at=times.get("acknowledge"),
    )
    referral.refresh_from_db()
    return referral


def seed(users: dict[str, User]) -> None:
    patients = {
        p.mrn: p
        for p in Patient.objects.filter(mrn__in=["MS100001", "MS100002", "MS100003", "MS100005"])
    }
    if len(patients) < 4 or RehabSession.objects.filter(patient__in=patients.values()).exists():
        return
    today = timezone.localdate()
    neuro, nurse = users["dr.okafor"], users["nurse.patel"]
    physio, psych, ot = users["physio.lindqvist"], users["psych.moreau"], users["ot.byrne"]
    hannah, daniel, sofia, aisha = (
        patients["MS100001"],
        patients["MS100002"],
        patients["MS100003"],
        patients["MS100005"],
    )

    # Hannah: physiotherapy for falls, months of sessions with a meaningful worsening.
    physio_referral = _referral(
        patient=hannah,
        by=neuro,
        discipline="physiotherapy",
        urgency="soon",
        reason="Two falls since spring; reports her right leg giving way on stairs. "
        "Please assess balance and gait and advise on a walking aid.",
        days_ago=130,
        steps=[
            ("triage", physio, {}),
            ("accept", physio, {"note": "Balance and gait programme."}),
            ("schedule", physio, {"scheduled_on": today}),
            ("start", physio, {}),
        ],
    )
    Referral.objects.filter(pk=physio_referral.pk).update(scheduled_on=today - timedelta(days=120))
    rehab.create_therapy_plan(
        patient=hannah,
        by=physio,
        discipline="physiotherapy",
        goals="Walk 500 m outdoors with one stick; no falls over 3 months; Berg ≥ 46.",
        planned_sessions=12,
        frequency="fortnightly",
        starts_on=today - timedelta(days=120),
    )
    walk = [  # days ago, T25FW trials (s), Berg total
        (120, ("7.9", "8.1"), "45"),
        (92, ("7.4", "7.6"), "47"),
        (64, ("7.2", "7.0"), "48"),
        (36, ("7.1", "7.3"), "48"),
        (8, ("9.0", "8.8"), "44"),  # a ≥ 20% slower walk and Berg into the fall-risk range
    ]
    for days_ago, (t1, t2), berg in walk:
        rehab.log_session(
            patient=hannah,
            by=physio,
            held_on=today - timedelta(days=days_ago),
            duration_minutes=45,
            discipline="physiotherapy",
            setting="clinic",
            interventions=["balance", "gait", "strength"],
            goals="Safe stairs; longer walking distance.",
            progress="Steady progress."
            if days_ago > 8
            else "Slower and less steady since a "
            "urinary infection last week; review after treatment.",
            referral=physio_referral,
            measurements={
                "t25fw": {"trial_1": t1, "trial_2": t2},
                "bbs": {"total": berg},
            },
        )

    # Daniel: psychology for fatigue and processing speed, with SDMT and MFIS; completed and
    # waiting for the neurologist to acknowledge the summary.
    rehab.log_session(
        patient=daniel,
        by=psych,
        held_on=today - timedelta(days=40),
        duration_minutes=60,
        discipline="psychology",
        setting="clinic",
        interventions=["cognitive_training", "fatigue"],
        goals="Manage fatigue at work; understand the cognitive screening.",
        measurements={
            "sdmt": {"correct": "46"},
            "mfis": {"physical": "22", "cognitive": "24", "psychosocial": "5"},
        },
    )
    _referral(
        patient=daniel,
        by=neuro,
        discipline="psychology",
        urgency="routine",
        reason="Struggling at work with fatigue and concentration. Please assess cognition "
        "and mood.",
        days_ago=60,
        steps=[
            ("accept", psych, {}),
            ("start", psych, {}),
            (
                "complete",
                psych,
                {
                    "summary": "SDMT 46 (below age norm), MFIS 51 (significant fatigue). Mood "
                    "not depressed (PHQ-9 6). Six sessions of fatigue management and pacing "
                    "agreed with his employer; recommend occupational health review."
                },
            ),
        ],
    )

    # Sofia: an urgent occupational therapy referral nobody has answered: breached.
    _referral(
        patient=sofia,
        by=nurse,
        discipline="occupational_therapy",
        urgency="urgent",
        reason="Hand weakness after a relapse; cannot manage buttons or cutlery. Needs aids "
        "assessment before returning to work.",
        days_ago=6,
        steps=[],
    )
    # Aisha: a routine continence referral just sent, and a declined OT one.
    _referral(
        patient=aisha,
        by=neuro,
        discipline="continence",
        urgency="routine",
        reason="Urgency and nocturia despite oxybutynin.",
        days_ago=1,
        steps=[],
    )
    _referral(
        patient=aisha,
        by=neuro,
        discipline="occupational_therapy",
        urgency="routine",
        reason="Fatigue limiting housework; advice on energy conservation.",
        days_ago=20,
        steps=[
            (
                "decline",
                ot,
                {"reason": "Already under the community OT team; letter sent to them."},
            )
        ],
    )
