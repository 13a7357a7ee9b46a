"""Helpers for building a patient's clinical history in tests of the patients app."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import EdssAssessment, MriStudy, Patient, Relapse
from patients.records import services

# Raw FS grades (visual, brainstem, pyramidal, cerebellar, sensory, bowel_bladder, cerebral)
# and ambulation that give a known step (see tests/patients/test_edss.py for the rules).
SCORES_FOR_STEP: dict[str, dict[str, int]] = {
    "0.0": dict.fromkeys(
        (
            "visual",
            "brainstem",
            "pyramidal",
            "cerebellar",
            "sensory",
            "bowel_bladder",
            "cerebral",
            "ambulation",
        ),
        0,
    ),
}


def scores(**grades: int) -> dict[str, int]:
    """All FS and ambulation 0 unless given."""
    return {**SCORES_FOR_STEP["0.0"], **grades}


# One FS at grade 2 gives 2.0; one FS at grade 3 gives 3.0; one at 4 gives 4.0; ambulation 6
# (a cane) gives 6.0.
STEP_SCORES: dict[str, dict[str, int]] = {
    "0.0": scores(),
    "1.0": scores(sensory=1),
    "1.5": scores(sensory=1, visual=1),
    "2.0": scores(pyramidal=2),
    "2.5": scores(pyramidal=2, sensory=2),
    "3.0": scores(pyramidal=3),
    "3.5": scores(pyramidal=3, sensory=2),
    "4.0": scores(pyramidal=4),
    "4.5": scores(pyramidal=3, ambulation=2),
    "5.0": scores(pyramidal=3, ambulation=3),
    "6.0": scores(pyramidal=3, ambulation=6),
    "6.5": scores(pyramidal=4, ambulation=8),
}


@pytest.fixture
def record_edss(neurologist: User) -> Any:
    def _record(patient: Patient, on: date, step: str) -> EdssAssessment:
        return services.record_edss(
            patient=patient, assessed_on=on, scores=STEP_SCORES[step], by=neurologist
        )

    return _record


@pytest.fixture
def record_relapse(neurologist: User) -> Any:
    def _record(patient: Patient, onset_on: date, end_on: date | None = None) -> Relapse:
        return services.record_relapse(
            patient=patient,
            onset_on=onset_on,
            end_on=end_on,
            symptoms="Left leg numbness",
            functional_systems=["sensory"],
            severity="moderate",
            objectively_confirmed=True,
            infection_excluded=True,
            recovery="partial",
            treatment="iv_mp",
            by=neurologist,
        ).relapse

    return _record


@pytest.fixture
def record_mri(neurologist: User) -> Any:
    def _record(
        patient: Patient, on: date, t2: int = 0, gad: int | None = None, baseline: bool = False
    ) -> MriStudy:
        return services.record_mri(
            patient=patient,
            study_on=on,
            field_strength="3t",
            contrast_given=gad is not None,
            new_or_enlarging_t2=t2,
            gad_enhancing=gad,
            is_baseline=baseline,
            report="",
            by=neurologist,
        )

    return _record
