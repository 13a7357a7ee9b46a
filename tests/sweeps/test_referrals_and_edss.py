"""Referrals past their deadline and patients without an EDSS for a year."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from clinic.accounts.models import User
from patients.models import CourseState, Patient, Referral
from patients.referrals import services as referral_services
from tests.factories import PatientFactory
from tests.sweeps.conftest import NOW
from treatments.models import Alert, AlertGrade, AlertKind, AlertStatus
from treatments.monitoring import sweeps

pytestmark = pytest.mark.django_db

MakeReferral = Callable[..., Referral]
A_MONTH_LATER = NOW + timedelta(days=30)


@pytest.fixture
def breached(make_referral: MakeReferral) -> Referral:
    """A routine physiotherapy referral sent on 15 June, unanswered a month later."""
    with time_machine.travel(NOW, tick=False):
        return make_referral("sent")


def test_a_referral_unanswered_past_its_deadline_alerts_the_referrer(
    breached: Referral, neurologist: User
) -> None:
    result = sweeps.sweep_breached_referrals(at=A_MONTH_LATER)

    alert = Alert.objects.get()
    assert result.created == 1
    assert alert.condition_key == f"referral_overdue:referral:{breached.pk}"
    assert alert.kind == AlertKind.REFERRAL_OVERDUE
    assert alert.grade == AlertGrade.WARNING
    assert alert.owner == neurologist  # the referrer


def test_a_referral_within_its_deadline_raises_nothing(breached: Referral) -> None:
    assert sweeps.sweep_breached_referrals(at=breached.due_at - timedelta(minutes=1)).created == 0


def test_referral_sweep_is_idempotent(breached: Referral) -> None:
    assert sweeps.sweep_breached_referrals(at=A_MONTH_LATER).created == 1
    assert sweeps.sweep_breached_referrals(at=A_MONTH_LATER) == sweeps.SweepResult()


def test_accepting_the_referral_resolves_the_breach_alert_on_the_next_run(
    breached: Referral, therapist: User
) -> None:
    sweeps.sweep_breached_referrals(at=A_MONTH_LATER)
    referral_services.accept_referral(referral=breached, by=therapist)

    result = sweeps.sweep_breached_referrals(at=A_MONTH_LATER)

    alert = Alert.objects.get()
    assert result.resolved == 1
    assert alert.status == AlertStatus.RESOLVED
    assert "answered" in alert.resolution_note


def test_cancelling_the_referral_resolves_the_breach_alert(
    breached: Referral, neurologist: User
) -> None:
    sweeps.sweep_breached_referrals(at=A_MONTH_LATER)
    referral_services.cancel_referral(referral=breached, by=neurologist, reason="Moved away.")

    sweeps.sweep_breached_referrals(at=A_MONTH_LATER)

    assert "cancelled" in Alert.objects.get().resolution_note


def test_a_referrer_who_has_left_is_replaced_by_the_patients_neurologist(
    make_referral: MakeReferral, nurse: User, neurologist: User
) -> None:
    with time_machine.travel(NOW, tick=False):
        make_referral("sent", by=nurse)
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])

    sweeps.sweep_breached_referrals(at=A_MONTH_LATER)

    assert Alert.objects.get().owner == neurologist


def test_referral_sweep_query_count_does_not_grow_with_breaches(
    make_referral: MakeReferral, django_assert_max_num_queries
) -> None:
    with time_machine.travel(NOW, tick=False):
        make_referral("sent")
    with django_assert_max_num_queries(20) as few:
        sweeps.sweep_breached_referrals(at=A_MONTH_LATER)
    with time_machine.travel(NOW, tick=False):
        for _ in range(15):
            make_referral("triaged")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert sweeps.sweep_breached_referrals(at=A_MONTH_LATER).created == 15


# --- missing EDSS -----------------------------------------------------------------------------

TODAY = date(2026, 6, 15)


def on_course(patient: Patient) -> Patient:
    CourseState.objects.create(patient=patient, course="rrms", start_on=date(2020, 1, 1))
    return patient


def last_edss(patient: Patient, on: date | None) -> Patient:
    # The derived column the clinical services keep; set directly to place the test in time.
    Patient.objects.filter(pk=patient.pk).update(latest_edss_on=on)
    patient.refresh_from_db()
    return patient


def test_a_patient_under_follow_up_without_an_edss_for_a_year_alerts_the_neurologist(
    patient_a: Patient, neurologist: User
) -> None:
    last_edss(on_course(patient_a), date(2025, 6, 14))

    result = sweeps.sweep_missing_edss(at=NOW)

    alert = Alert.objects.get()
    assert result.created == 1
    assert alert.condition_key == f"no_edss:patient:{patient_a.pk}:since:2025-06-14"
    assert alert.kind == AlertKind.NO_EDSS
    assert alert.grade == AlertGrade.WARNING
    assert alert.owner == neurologist
    assert "14 Jun 2025" in alert.title


def test_an_edss_exactly_twelve_months_old_is_not_yet_missing(patient_a: Patient) -> None:
    last_edss(on_course(patient_a), date(2025, 6, 15))

    assert sweeps.sweep_missing_edss(at=NOW).created == 0


def test_a_patient_with_no_edss_ever_is_flagged_with_never_in_the_key(patient_a: Patient) -> None:
    on_course(patient_a)

    sweeps.sweep_missing_edss(at=NOW)

    alert = Alert.objects.get()
    assert alert.condition_key.endswith(":since:never")
    assert alert.title == "No EDSS on record"


def test_patients_without_course_or_treatment_and_inactive_patients_are_not_watched(
    patient_a: Patient, team_a: object
) -> None:
    last_edss(patient_a, date(2020, 1, 1))  # no course, no DMT
    transferred = on_course(PatientFactory(care_team=patient_a.care_team, status="transferred"))
    last_edss(transferred, date(2020, 1, 1))

    assert sweeps.sweep_missing_edss(at=NOW).created == 0


def test_missing_edss_sweep_is_idempotent(patient_a: Patient) -> None:
    last_edss(on_course(patient_a), date(2024, 1, 1))

    assert sweeps.sweep_missing_edss(at=NOW).created == 1
    assert sweeps.sweep_missing_edss(at=NOW) == sweeps.SweepResult()


def test_a_new_edss_resolves_the_alert(patient_a: Patient) -> None:
    last_edss(on_course(patient_a), date(2024, 1, 1))
    sweeps.sweep_missing_edss(at=NOW)
    last_edss(patient_a, date(2026, 6, 10))

    result = sweeps.sweep_missing_edss(at=NOW)

    assert result.resolved == 1
    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_an_old_edss_entered_late_starts_a_new_episode(patient_a: Patient) -> None:
    last_edss(on_course(patient_a), date(2024, 1, 1))
    sweeps.sweep_missing_edss(at=NOW)
    last_edss(patient_a, date(2025, 2, 1))  # from the paper notes: newer, but still too old

    result = sweeps.sweep_missing_edss(at=NOW)

    assert (result.created, result.resolved) == (1, 1)
    open_alert = Alert.objects.get(status=AlertStatus.OPEN)
    assert open_alert.condition_key.endswith(":since:2025-02-01")


def test_missing_edss_query_count_does_not_grow_with_patients(
    patient_a: Patient, django_assert_max_num_queries
) -> None:
    last_edss(on_course(patient_a), None)
    with django_assert_max_num_queries(20) as few:
        sweeps.sweep_missing_edss(at=NOW)
    for patient in PatientFactory.create_batch(40, care_team=patient_a.care_team):
        on_course(patient)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert sweeps.sweep_missing_edss(at=NOW).created == 40


def test_extending_monitoring_runs_on_the_clinic_day(patient_a: Patient, settings: object) -> None:
    on_course(patient_a)
    with time_machine.travel(NOW, tick=False):
        first = sweeps.sweep_extend_monitoring(at=timezone.now())
        second = sweeps.sweep_extend_monitoring(at=timezone.now())

    assert first.created > 0  # the general duties (reviews, MRI) materialised
    assert second.created == 0
