"""Every imported result is evaluated, in batches, and none is ever lost: a result carries its
`evaluation_pending` mark until its evaluation commits, and the pending sweep evaluates whatever
a lost task left behind (the broker down, an import killed before its batch was sent)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from patients.models import Patient
from tests.labimport.conftest import Import
from tests.labimport.messages import lft_panel, oru
from tests.sweeps.test_reliability import redis_down  # noqa: F401
from treatments.models import Alert, AlertKind, Result
from treatments.safety import batch as evaluation_batch
from treatments.safety import evaluation
from treatments.safety import tasks as safety_tasks


@pytest.fixture
def tasks_run() -> Iterator[list[str]]:
    names: list[str] = []

    def seen(sender: Any = None, **kwargs: Any) -> None:
        names.append(sender.name)

    task_prerun.connect(seen, weak=False)
    yield names
    task_prerun.disconnect(seen)


def _upload(patient: Patient, *alts: str) -> str:
    return "".join(
        oru(
            *lft_panel(alt, filler=f"F{number}"),
            born=patient.date_of_birth,
            control_id=f"BATCH{number}",
        )
        for number, alt in enumerate(alts, start=1)
    )


def abnormal_alerts(patient: Patient) -> int:
    return Alert.objects.filter(patient=patient, kind=AlertKind.ABNORMAL_RESULT).count()


def test_the_results_of_one_upload_are_evaluated_in_one_batch_and_none_is_left_pending(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import, tasks_run: list[str]
) -> None:
    import_text(_upload(patient_a, "22", "182", "24"))

    assert Result.objects.count() == 3
    assert tasks_run == ["treatments.evaluate_results"]  # one task for the three results
    assert abnormal_alerts(patient_a) == 1  # the ALT of 182 U/L
    assert not Result.objects.filter(evaluation_pending=True).exists()


@pytest.mark.usefixtures("redis_down")
def test_with_the_broker_down_the_results_wait_pending_and_the_sweep_evaluates_them(
    on_teriflunomide: Any, patient_a: Patient, import_text: Import
) -> None:
    summary = import_text(_upload(patient_a, "182"))

    assert summary.results == 4  # imported and saved: the broker is not needed for that
    assert Result.objects.get().evaluation_pending
    assert abnormal_alerts(patient_a) == 0  # not evaluated yet
    # Within its grace period a pending result is left to the task that may still be queued.
    assert evaluation_batch.evaluate_pending() == 0

    later = timezone.now() + evaluation_batch.PENDING_GRACE + timedelta(seconds=1)
    assert evaluation_batch.evaluate_pending(now=later) == 1

    assert abnormal_alerts(patient_a) == 1
    assert not Result.objects.get().evaluation_pending
    assert evaluation_batch.evaluate_pending(now=later) == 0  # nothing left: nothing done twice


def test_one_failing_evaluation_leaves_only_itself_pending(
    on_teriflunomide: Any,
    patient_a: Patient,
    import_text: Import,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_evaluate = evaluation.evaluate
    with pytest.MonkeyPatch.context() as broken:
        # The first result's evaluation fails (say, a catalogue rule it cannot read).
        def evaluate(result: Result, **kwargs: Any) -> Any:
            if result.note.endswith("message BATCH1."):
                raise RuntimeError("cannot evaluate")
            return real_evaluate(result, **kwargs)

        broken.setattr(evaluation, "evaluate", evaluate)
        import_text(_upload(patient_a, "182", "190"))

    first, second = Result.objects.order_by("pk")
    assert first.evaluation_pending
    assert not second.evaluation_pending
    assert abnormal_alerts(patient_a) == 1
    assert f"Evaluation of result {first.pk} failed" in caplog.text

    later = timezone.now() + evaluation_batch.PENDING_GRACE + timedelta(seconds=1)
    assert safety_tasks.evaluate_pending_results.delay().get() == 0  # within its grace
    assert evaluation_batch.evaluate_pending(now=later) == 1
    first.refresh_from_db()
    assert not first.evaluation_pending
