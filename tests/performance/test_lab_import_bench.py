"""The bench's lab import figure on a small generated clinic: the same code path `make bench`
times on the 1M-item clinic (messages for existing patients, evaluation in the timing)."""

from __future__ import annotations

from typing import Any

import pytest

from treatments.bench import figures as collected
from treatments.bench import lab_import, run
from treatments.labimport import hl7v2
from treatments.models import InboundMessage, MessageState, Result


def test_the_generated_messages_are_valid_oru_for_the_clinics_patients(generated_clinic) -> None:
    generated_clinic(patients=12, caseload=6)
    from patients.models import Patient

    patients = list(Patient.objects.values_list("mrn", "date_of_birth")[:3])

    messages = lab_import.oru_messages(patients, 4, taken_on=patients[0][1])

    reports = [hl7v2.parse_oru(m) for m in messages]
    assert [r.patient.identifiers[0] for r in reports] == [p[0] for p in patients] + [
        patients[0][0]
    ]
    assert {r.observation_count for r in reports} == {5}


def test_the_import_figure_imports_every_result_and_reports_a_rate(
    generated_clinic, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    generated_clinic(patients=12, caseload=6)
    results_before = Result.objects.count()
    # The figure runs on a scratch copy of the bench database; here, on the test database.
    monkeypatch.setattr(run, "on_scratch_copy", lambda step: step())
    monkeypatch.setattr(run, "LAB_RESULTS", 100)
    monkeypatch.setattr(run, "LAB_WORKERS", 0)  # evaluation in this process (see below)
    monkeypatch.setattr(collected, "FIGURES", [])

    with django_capture_on_commit_callbacks(execute=True):
        run.lab_import()

    figures = {f.name: f for f in collected.FIGURES}
    rate = figures["HL7 import rate (evaluation inline)"]
    assert rate.unit == "results/s"
    assert rate.target == ">= 300/s"
    assert isinstance(rate.value, float)
    assert rate.value > 0
    assert "HL7 import (100 results, 20 messages)" in figures
    assert "HL7 messages held for review" not in figures, "every message matched its patient"
    assert InboundMessage.objects.filter(state=MessageState.IMPORTED).count() == 20
    assert Result.objects.count() == results_before + 20
