"""One item per duty: the general duties and a drug's protocol leave one item for the same test on
the same day (its 'why' names both reasons), and recording an EDSS closes the neurology review
it answers — on the patient record, through the task queued by name, or by the daily sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent
from patients.edss import FS_ORDER
from patients.models import EdssAssessment, Patient
from patients.records import corrections as record_corrections
from patients.records import services as record_services
from tests.treatments.conftest import StartPlan
from treatments.models import Alert, AlertStatus, ItemStatus, MonitoringItem
from treatments.monitoring import sweeps
from treatments.plans import schedule
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db

MONTH_18 = date(2026, 7, 6)  # 18 months after a start on 6 Jan 2025


def _open_mri(patient: Patient, on: date) -> list[MonitoringItem]:
    return list(
        MonitoringItem.objects.filter(
            patient=patient, investigation="mri_brain", due_on=on, status__in=["scheduled"]
        )
    )


@pytest.fixture
def jcv_positive_on_natalizumab(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    return start_plan(patient_a, "natalizumab_iv", date(2025, 1, 6), conditions=("jcv_positive",))


# --- the same test on the same day ---------------------------------------------------------------


def test_the_general_yearly_mri_and_the_natalizumab_safety_mri_are_one_item(
    jcv_positive_on_natalizumab: Any, patient_a: Patient
) -> None:
    [mri] = _open_mri(patient_a, MONTH_18)

    # The drug's item stays (its window and source), and says why the general duties want it.
    assert (mri.plan, mri.rule_key, mri.merged_from) == (
        jcv_positive_on_natalizumab,
        "mri_jcv_positive",
        "mri_yearly",
    )
    assert mri.why.startswith("Safety MRI (FLAIR, T2, DWI) every 6 months from month 18")
    assert "Also the general duty: Yearly brain MRI after the re-baseline scan" in mri.why
    assert not patient_a.care_plan.items.filter(due_on=MONTH_18, rule_key="mri_yearly").exists()


def test_merging_is_idempotent(jcv_positive_on_natalizumab: Any, patient_a: Patient) -> None:
    again = schedule.sync_care_plan(patient=patient_a, on=date(2026, 6, 15))

    assert again == schedule.SyncReport()
    assert len(_open_mri(patient_a, MONTH_18)) == 1


def test_a_general_item_already_on_the_list_is_merged_when_the_drug_asks_for_the_same_day(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2025, 1, 6))
    [general] = _open_mri(patient_a, MONTH_18)
    assert general.rule_key == "mri_yearly"

    # JCV positive is confirmed on the plan: the 6-monthly safety MRI from month 18 begins.
    plan_services.update_plan_conditions(plan=plan, conditions=["jcv_positive"], by=neurologist)

    [mri] = _open_mri(patient_a, MONTH_18)
    assert mri.rule_key == "mri_jcv_positive"
    general.refresh_from_db()
    assert general.status == ItemStatus.CANCELLED
    assert general.cancelled_reason.startswith("Merged into the Natalizumab (intravenous) item")


def test_stopping_the_drug_gives_the_general_duty_its_own_item_back(
    jcv_positive_on_natalizumab: Any, patient_a: Patient, neurologist: User
) -> None:
    plan_services.stop_dmt_plan(
        plan=jcv_positive_on_natalizumab,
        stopped_on=date(2026, 5, 1),
        reason="patient_choice",
        by=neurologist,
    )

    [mri] = _open_mri(patient_a, MONTH_18)
    assert (mri.care_plan, mri.rule_key, mri.why) == (
        patient_a.care_plan,
        "mri_yearly",
        mri.explanation,
    )
    cancelled = jcv_positive_on_natalizumab.items.get(rule_key="mri_jcv_positive", due_on=MONTH_18)
    assert cancelled.status == ItemStatus.CANCELLED
    assert cancelled.merged_from == ""


def test_the_item_page_shows_both_reasons(
    jcv_positive_on_natalizumab: Any, patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    [mri] = _open_mri(patient_a, MONTH_18)

    body = signed_in(nurse).get(f"/treatments/items/{mri.pk}/").content.decode()

    assert "Also the general duty: Yearly brain MRI after the re-baseline scan" in body


# --- an EDSS closes the neurology review -------------------------------------------------------


def _edss(patient: Patient, on: date, by: User) -> EdssAssessment:
    scores = dict.fromkeys((*FS_ORDER, "ambulation"), 0)
    return record_services.record_edss(patient=patient, assessed_on=on, scores=scores, by=by)


def _review(patient: Patient, due_on: date) -> MonitoringItem:
    return patient.care_plan.items.get(rule_key="neuro_review", due_on=due_on)


@pytest.fixture
def on_teriflunomide(eu_clinic: Any, patient_a: Patient, start_plan: StartPlan) -> Any:
    """Reviews every 6 months: 5 Jul 2026 (window 7 Jun - 2 Aug) and 5 Jan 2027."""
    return start_plan(patient_a, "teriflunomide", date(2026, 1, 5))


def test_recording_an_edss_closes_the_review_it_answers(
    on_teriflunomide: Any,
    patient_a: Patient,
    neurologist: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    review = _review(patient_a, date(2026, 7, 5))
    # The nurse has seen it due soon (the sweep looks 14 days ahead).
    sweeps.sweep_due_soon(at=datetime(2026, 6, 25, 12, tzinfo=UTC))
    assert Alert.objects.filter(raised_by_id=str(review.pk), status=AlertStatus.OPEN).exists()

    with django_capture_on_commit_callbacks(execute=True):
        edss = _edss(patient_a, date(2026, 6, 15), neurologist)

    review.refresh_from_db()
    assert (review.status, review.completed_on, review.edss) == (
        ItemStatus.DONE_IN_WINDOW,
        date(2026, 6, 15),
        edss,
    )
    assert review.settled_by == neurologist
    assert not Alert.objects.filter(raised_by_id=str(review.pk), status=AlertStatus.OPEN).exists()
    assert AccessEvent.objects.filter(object_id=str(review.pk), detail="closed by EDSS").exists()
    # The next review is still due.
    assert _review(patient_a, date(2027, 1, 5)).status == ItemStatus.SCHEDULED


def test_an_edss_before_the_reviews_window_does_not_close_it(
    on_teriflunomide: Any, patient_a: Patient, neurologist: User
) -> None:
    _edss(patient_a, date(2026, 5, 20), neurologist)

    schedule.sync_care_plan(patient=patient_a, on=date(2026, 6, 15))

    assert _review(patient_a, date(2026, 7, 5)).status == ItemStatus.SCHEDULED


def _tracked_since(patient: Patient, by: User, *, started_on: date, tracked_on: date) -> None:
    """A plan started (and the general duties tracked) back on `tracked_on`, so reviews from
    then on are owed, missed ones included."""
    with time_machine.travel(datetime.combine(tracked_on, time(12), tzinfo=UTC), tick=False):
        plan = plan_services.plan_dmt(
            patient=patient, drug_key="teriflunomide", by=by, planned_on=started_on
        )
        plan_services.start_dmt_plan(
            plan=plan,
            started_on=started_on,
            override_reason="Test patient: baseline checks done elsewhere",
            by=by,
        )


def test_a_late_edss_closes_an_overdue_review_as_done_late(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    # Reviews every 6 months from 5 Oct 2025: the 5 Apr 2026 one's window closed on 3 May.
    _tracked_since(
        patient_a, neurologist, started_on=date(2025, 10, 5), tracked_on=date(2025, 10, 5)
    )
    overdue = _review(patient_a, date(2026, 4, 5))

    _edss(patient_a, date(2026, 6, 10), neurologist)
    schedule.sync_care_plan(patient=patient_a, on=today)

    overdue.refresh_from_db()
    assert (overdue.status, overdue.completed_on) == (ItemStatus.DONE_LATE, date(2026, 6, 10))
    # The review due 5 Oct 2026 is still owed: one EDSS answers one review.
    assert _review(patient_a, date(2026, 10, 5)).status == ItemStatus.SCHEDULED


def test_the_review_whose_window_holds_the_edss_takes_it_before_an_older_overdue_one(
    eu_clinic: Any, patient_a: Patient, neurologist: User, today: date
) -> None:
    eu_clinic.review_interval_months = 3
    eu_clinic.save()
    # Reviews every 3 months from 10 Dec 2025: 10 Mar (missed) and 10 Jun 2026.
    _tracked_since(
        patient_a, neurologist, started_on=date(2025, 12, 10), tracked_on=date(2025, 12, 10)
    )
    older, current = _review(patient_a, date(2026, 3, 10)), _review(patient_a, date(2026, 6, 10))
    assert older.window_closes_on < date(2026, 6, 1) <= current.window_closes_on

    _edss(patient_a, date(2026, 6, 1), neurologist)
    schedule.sync_care_plan(patient=patient_a, on=today)

    current.refresh_from_db()
    older.refresh_from_db()
    assert current.status == ItemStatus.DONE_IN_WINDOW
    assert older.status == ItemStatus.SCHEDULED  # still overdue: that review was missed


def test_the_daily_sweep_closes_the_review_if_the_message_was_lost(
    on_teriflunomide: Any, patient_a: Patient, neurologist: User
) -> None:
    # Recorded without the after-commit task running (Redis down, say).
    _edss(patient_a, date(2026, 6, 15), neurologist)
    assert _review(patient_a, date(2026, 7, 5)).status == ItemStatus.SCHEDULED

    schedule.extend_monitoring(on=date(2026, 6, 16))
    schedule.extend_monitoring(on=date(2026, 6, 16))

    review = _review(patient_a, date(2026, 7, 5))
    assert review.status == ItemStatus.DONE_IN_WINDOW
    assert MonitoringItem.objects.filter(edss__isnull=False).count() == 1


def test_an_edss_closes_a_drug_item_that_absorbed_the_general_review(
    eu_clinic: Any, patient_a: Patient, start_plan: StartPlan, neurologist: User
) -> None:
    # Natalizumab (EU) re-informs about PML at month 24, the day of the 6-monthly review.
    plan = start_plan(patient_a, "natalizumab_iv", date(2024, 7, 8))
    [visit] = MonitoringItem.objects.filter(
        patient=patient_a, investigation="neuro_review", due_on=date(2026, 7, 8)
    )
    assert (visit.plan, visit.rule_key, visit.merged_from) == (
        plan,
        "pml_reconsent_24m",
        "neuro_review",
    )

    _edss(patient_a, date(2026, 6, 15), neurologist)
    schedule.sync_care_plan(patient=patient_a, on=date(2026, 6, 15))

    visit.refresh_from_db()
    assert visit.status == ItemStatus.DONE_IN_WINDOW


def test_an_edss_entered_in_error_reopens_the_review_it_closed(
    on_teriflunomide: Any,
    patient_a: Patient,
    neurologist: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    review = _review(patient_a, date(2026, 7, 5))
    with django_capture_on_commit_callbacks(execute=True):
        edss = _edss(patient_a, date(2026, 6, 15), neurologist)
    review.refresh_from_db()
    assert review.edss == edss

    with django_capture_on_commit_callbacks(execute=True):
        record_corrections.mark_in_error(record=edss, reason="Wrong patient", by=neurologist)

    review.refresh_from_db()
    assert (review.status, review.completed_on, review.edss) == (ItemStatus.SCHEDULED, None, None)
    assert AccessEvent.objects.filter(
        object_id=str(review.pk), detail="open again: the EDSS that closed it was corrected"
    ).exists()


def test_an_amended_edss_closes_the_review_again_in_its_place(
    on_teriflunomide: Any,
    patient_a: Patient,
    neurologist: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    review = _review(patient_a, date(2026, 7, 5))
    with django_capture_on_commit_callbacks(execute=True):
        edss = _edss(patient_a, date(2026, 6, 15), neurologist)
    with django_capture_on_commit_callbacks(execute=True):
        amended = record_corrections.amend_edss(
            assessment=edss,
            assessed_on=date(2026, 6, 14),
            scores={name: getattr(edss, name) for name in (*FS_ORDER, "ambulation")},
            reason="Seen the day before",
            by=neurologist,
        )

    review.refresh_from_db()
    assert (review.completed_on, review.edss) == (date(2026, 6, 14), amended)
