"""Family-planning fixtures: the treatments clinic day (15 June 2026, EU labels) and Alice, 32."""

from __future__ import annotations

from datetime import date

import pytest

from patients.models import Patient
from tests.treatments.conftest import eu_clinic, start_plan, today, us_clinic  # noqa: F401


@pytest.fixture
def alice(patient_a: Patient, request: pytest.FixtureRequest) -> Patient:
    """Alice, 32, on the treatments clinic day under EU labels."""
    request.getfixturevalue("today")
    request.getfixturevalue("eu_clinic")
    patient_a.sex = "female"
    patient_a.date_of_birth = date(1994, 3, 2)
    patient_a.save(update_fields=["sex", "date_of_birth"])
    return patient_a
