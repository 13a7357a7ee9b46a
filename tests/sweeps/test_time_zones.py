"""Beat runs in UTC, the clinic lives in its own time zone: an item is overdue from the first
instant of the clinic's day after its window closed, never an hour early or late, across the
clocks changing, wherever the clinic is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.models import Patient
from tests.sweeps.conftest import build_items
from treatments.models import Alert
from treatments.monitoring import sweeps

pytestmark = pytest.mark.django_db

ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
FIRST, LAST = date(2026, 1, 1), date(2027, 12, 31)


def dst_change_days() -> list[date]:
    """Every local day in the two years on which a zone's UTC offset changes (and the days
    either side), where an off-by-an-hour "today" would show."""
    days: set[date] = set()
    for name in ZONES:
        zone = ZoneInfo(name)
        day = FIRST
        while day < LAST:
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            if noon.utcoffset() != (noon + timedelta(days=1)).utcoffset():
                days.update(day + timedelta(days=d) for d in (-1, 0, 1, 2))
            day += timedelta(days=1)
    return sorted(days)


DST_DAYS = dst_change_days()


def local_midnight(day: date, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


def flagged_at(patient: Patient, *, closes_on: date, at: datetime, zone: str) -> bool:
    """Sweep once at `at` for a clinic in `zone`; leave the database as it was."""
    with override_settings(TIME_ZONE=zone), timezone.override(zone), transaction.atomic():
        (item,) = build_items(patient, closes_on=closes_on)
        sweeps.sweep_overdue(at=at)
        flagged = Alert.objects.filter(condition_key=f"overdue:item:{item.pk}").exists()
        transaction.set_rollback(True)
    return flagged


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone=st.sampled_from(ZONES),
    closes_on=st.one_of(st.sampled_from(DST_DAYS), st.dates(FIRST, LAST)),
    # From a day and a half before to a day and a half after the clinic's next midnight, with
    # the instants either side of it drawn often.
    offset=st.one_of(
        st.integers(-36 * 3600, 36 * 3600),
        st.sampled_from([-3600, -60, -1, 0, 1, 60, 3600]),
    ),
)
def test_an_item_is_overdue_exactly_from_the_clinic_day_after_its_window_closes(
    patient_a: Patient, zone: str, closes_on: date, offset: int
) -> None:
    boundary = local_midnight(closes_on + timedelta(days=1), zone)
    at = (boundary + timedelta(seconds=offset)).astimezone(UTC)

    assert flagged_at(patient_a, closes_on=closes_on, at=at, zone=zone) == (offset >= 0)


@pytest.mark.parametrize("zone", ZONES)
def test_every_hour_of_the_clock_change_days_gives_the_clinic_day(zone: str) -> None:
    tz = ZoneInfo(zone)
    with override_settings(TIME_ZONE=zone):
        for day in DST_DAYS:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            for minutes in range(0, 24 * 60, 15):  # beat's 15-minute cadence, in UTC
                at = start + timedelta(minutes=minutes)
                assert sweeps.clinic_today(at) == at.astimezone(tz).date()


def test_london_spring_forward_the_sweep_at_2330_utc_is_already_tomorrow(
    patient_a: Patient,
) -> None:
    # 28 March 2026 23:30 UTC is 23:30 GMT (still the 28th); a day later the clocks have gone
    # forward and 29 March 23:30 UTC is 00:30 BST on the 30th.
    london = "Europe/London"
    before = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    after = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)

    assert not flagged_at(patient_a, closes_on=date(2026, 3, 28), at=before, zone=london)
    assert flagged_at(
        patient_a, closes_on=date(2026, 3, 28), at=before + timedelta(hours=1), zone=london
    )
    assert flagged_at(patient_a, closes_on=date(2026, 3, 29), at=after, zone=london)


def test_a_sydney_clinic_flags_at_its_own_midnight_not_londons(patient_a: Patient) -> None:
    # Midnight 16 June in Sydney (AEST, UTC+10) is 14:00 UTC on 15 June.
    closes = date(2026, 6, 15)
    sydney = "Australia/Sydney"

    assert not flagged_at(
        patient_a, closes_on=closes, at=datetime(2026, 6, 15, 13, 59, tzinfo=UTC), zone=sydney
    )
    assert flagged_at(
        patient_a, closes_on=closes, at=datetime(2026, 6, 15, 14, 0, tzinfo=UTC), zone=sydney
    )
