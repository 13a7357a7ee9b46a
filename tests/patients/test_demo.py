"""The demo clinic's patients have histories that show every part of the clinical picture."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine

from clinic import demo
from patients import demo as patients_demo
from patients.models import EdssTrend, Patient


@time_machine.travel(date(2026, 11, 21))
def test_demo_patients_show_progression_stability_and_a_recent_relapse(db):
    patients_demo.seed(demo.seed_staff())
    today = date(2026, 11, 21)
    by_mrn = {p.mrn: p for p in Patient.objects.all()}

    progressing = by_mrn["MS100002"]
    assert progressing.cdp_confirmed_on is not None
    assert progressing.current_course == "spms"

    stable = by_mrn["MS100001"]
    assert stable.cdp_confirmed_on is None
    assert stable.edss_trend == EdssTrend.STABLE
    assert stable.neda_achieved is True

    recent = by_mrn["MS100003"]
    assert recent.last_relapse_onset_on is not None
    assert recent.last_relapse_onset_on >= today - timedelta(days=90)
    assert 3 <= recent.edss_assessments.count() <= 8


def test_demo_dates_follow_today(db):
    # Seeded on another day, the same patient's latest EDSS moves with it.
    with time_machine.travel(date(2030, 1, 10)):
        patients_demo.seed(demo.seed_staff())
    latest = Patient.objects.get(mrn="MS100001").latest_edss_on
    assert latest == date(2030, 1, 10) - timedelta(days=60)
