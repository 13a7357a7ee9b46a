from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.treatments.conftest import TODAY, eu_clinic, start_plan, today  # noqa: F401
from treatments.models import DmtPlan


@pytest.fixture
def on_ocrelizumab(request: Any, patient_a: Any) -> DmtPlan:
    """Ocrelizumab IV started 200 days ago, on the clinic day of the treatments tests, under the
    EU label: the next infusion is due (at least 150 days)."""
    request.getfixturevalue("today")
    request.getfixturevalue("eu_clinic")
    start = request.getfixturevalue("start_plan")
    return start(patient_a, "ocrelizumab_iv", TODAY - timedelta(days=200))  # type: ignore[no-any-return]
