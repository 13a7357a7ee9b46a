"""Lab import fixtures: the treatments clinic day, Alice on teriflunomide with liver tests due,
and a helper that imports text the way an upload does (after-commit work run, as in a worker)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import eu_clinic, start_plan, today, us_clinic  # noqa: F401
from treatments.labimport import services
from treatments.models import Channel, DmtPlan


@pytest.fixture
def on_teriflunomide(request: pytest.FixtureRequest, patient_a: Patient) -> DmtPlan:
    """Started 2026-03-02 in an EU clinic: ALT every two weeks, one window 5-11 June."""
    request.getfixturevalue("eu_clinic")
    start = request.getfixturevalue("start_plan")
    return start(patient_a, "teriflunomide", date(2026, 3, 2))


Import = Callable[..., services.Summary]


@pytest.fixture
def import_text(nurse: User, django_capture_on_commit_callbacks: Any) -> Import:
    def _import(text: str, *, by: User | None = None, **kwargs: Any) -> services.Summary:
        with django_capture_on_commit_callbacks(execute=True):
            return services.receive(
                text=text, channel=kwargs.pop("channel", Channel.UPLOAD), by=by or nurse, **kwargs
            )

    return _import
