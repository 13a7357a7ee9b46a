from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests.factories import TEST_PASSWORD
from treatments.models.catalogue import ClinicSettings
from treatments.plans import services as plan_services
from treatments.protocols import add_months


@pytest.fixture
def sign_in_as(page: Any, live_server: Any) -> Any:
    """Sign in through the real login page in Chromium."""

    def _sign_in(user: Any) -> Any:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        return page

    return _sign_in


@pytest.fixture
def on_teriflunomide(patient_a: Any, neurologist: Any) -> Any:
    """A teriflunomide plan started three months ago under the US label (ALT monthly for six
    months): month 3 is due today, months 1-2 are overdue."""
    clinic = ClinicSettings.load()
    clinic.label_region = "US"
    clinic.save()
    started = add_months(timezone.localdate(), -3)
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="teriflunomide", by=neurologist, planned_on=started
    )
    return plan_services.start_dmt_plan(
        plan=plan, started_on=started, override_reason="Baseline at GP", by=neurologist
    )
