from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.treatments.conftest import TODAY, eu_clinic, start_plan, today  # noqa: F401
from treatments.models import DmtPlan


@pytest.fixture
def on_ocrelizumab(today: Any, eu_clinic: Any, start_plan: Any, patient_a: Any) -> DmtPlan:
    """Ocrelizumab IV started 200 days ago: the next infusion is due (EU: at least 150 days)."""
    return start_plan(patient_a, "ocrelizumab_iv", TODAY - timedelta(days=200))  # type: ignore[no-any-return]
