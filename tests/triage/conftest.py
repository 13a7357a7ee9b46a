from __future__ import annotations

from tests.treatments.conftest import eu_clinic, start_plan, today  # noqa: F401  (shared fixtures)
