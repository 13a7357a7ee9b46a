"""A lab import's results are evaluated in batches: the same decisions as one by one, with a
query per input for the whole batch, and results of one patient still in order."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import User
from patients.models import Patient
from tests.evaluation.conftest import Record, keys
from tests.factories import PatientFactory
from treatments.corrections import results
from treatments.models import Alert, AlertStatus, Result
from treatments.safety import batch

pytestmark = pytest.mark.django_db

ALT_HIGH = ("alt", "200", "7", "40")  # 5×ULN
ALT_NORMAL = ("alt", "30", "7", "40")


@pytest.fixture
def on_teriflunomide(start_plan: Any, today: date) -> Any:
    def _start(patient: Patient) -> Any:
        return start_plan(patient, "teriflunomide", today - timedelta(days=120))

    return _start


def test_a_batch_of_patients_decides_what_each_would_alone_with_a_query_per_input(
    patient_a: Patient, on_teriflunomide: Any, record: Record, today: date
) -> None:
    patients = [patient_a, *PatientFactory.create_batch(5, care_team=patient_a.care_team)]
    for patient in patients:
        on_teriflunomide(patient)
    results = [
        record(p, "lft", today, ALT_HIGH if n % 2 else ALT_NORMAL, evaluate=False)
        for n, p in enumerate(patients)
    ]

    with CaptureQueriesContext(connection) as captured:
        batch.evaluate_batch([r.pk for r in results])

    high = {p.pk for n, p in enumerate(patients) if n % 2}
    for patient in patients:
        assert bool(keys(patient)) == (patient.pk in high), patient
    # Reading the inputs does not grow with the batch (six results here, one or two each).
    assert len(captured.captured_queries) <= 20
    assert not Result.objects.filter(evaluation_pending=True).exists()


def test_two_results_of_one_patient_in_a_batch_are_evaluated_in_order(
    patient_a: Patient, on_teriflunomide: Any, record: Record, today: date
) -> None:
    on_teriflunomide(patient_a)
    high = record(patient_a, "lft", today - timedelta(days=1), ALT_HIGH, evaluate=False)
    normal = record(patient_a, "lft", today, ALT_NORMAL, evaluate=False)

    batch.evaluate_batch([high.pk, normal.pk])

    # The normal repeat resolved the alert the first raised, as it would have one by one.
    [alert] = Alert.objects.filter(patient=patient_a)
    assert alert.raised_by_id == str(high.pk)
    assert alert.status == AlertStatus.RESOLVED


def test_a_result_entered_in_error_before_its_batch_ran_counts_for_nothing(
    patient_a: Patient, on_teriflunomide: Any, record: Record, today: date, nurse: User
) -> None:
    on_teriflunomide(patient_a)
    result = record(patient_a, "lft", today, ALT_HIGH, evaluate=False)
    results.mark_result_in_error(record=result, reason="Wrong patient", by=nurse)

    assert batch.evaluate_batch([result.pk]) == 0
    assert not Alert.objects.filter(patient=patient_a).exists()
