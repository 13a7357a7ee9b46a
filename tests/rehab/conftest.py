from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.referrals.conftest import make_referral  # noqa: F401  (shared fixture)
from treatments.models import RehabSession
from treatments.rehab import services


@pytest.fixture
def log_session(therapist: User, patient_a: Patient) -> Callable[..., RehabSession]:
    """Log a physiotherapy session for patient_a through the real service."""

    def _log(
        held_on: date, measurements: dict[str, dict[str, Any]] | None = None, **extra: Any
    ) -> RehabSession:
        return services.log_session(
            patient=extra.pop("patient", patient_a),
            by=extra.pop("by", therapist),
            held_on=held_on,
            duration_minutes=extra.pop("duration_minutes", 45),
            discipline=extra.pop("discipline", "physiotherapy"),
            setting=extra.pop("setting", "clinic"),
            interventions=extra.pop("interventions", ["balance", "gait"]),
            measurements=measurements,
            **extra,
        )

    return _log
