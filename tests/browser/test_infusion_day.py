"""The infusion day in Chromium: a nurse opens an ocrelizumab checklist, tries to record the
infusion with an item blank and is told which one at its field, completes it and records the
infusion; the day view lists it for the team."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from treatments.catalogue.services import load_catalogue
from treatments.models import ClinicSettings, InfusionVisit
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_ocrelizumab(patient_a: Any, neurologist: Any) -> Any:
    load_catalogue()
    ClinicSettings.objects.update_or_create(id=1, defaults={"label_region": "EU"})
    started = timezone.localdate() - timedelta(days=200)
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="ocrelizumab_iv", by=neurologist, planned_on=started
    )
    return plan_services.start_dmt_plan(
        plan=plan,
        started_on=started,
        override_reason="Baseline at the referring centre",
        by=neurologist,
    )


def test_a_nurse_records_an_infusion_only_when_the_checklist_is_complete(
    on_ocrelizumab: Any, patient_a: Any, nurse: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    sign_in_as(nurse)
    page.goto(f"{live_server.url}/treatments/patients/{patient_a.external_id}/")
    page.get_by_role("link", name="Infusion day checklist").click()
    page.get_by_role("button", name="Open the checklist").click()
    expect(page.locator("#missing")).to_contain_text("Not ready to record")

    form = page.locator("#checklist")
    for question in ("New or worsening", "Signs or symptoms", "Could the patient"):
        form.get_by_label(question).select_option("no")
    form.get_by_label("Pre-medication: Methylprednisolone").select_option("given")
    form.get_by_label("Pre-medication: Antihistamine").select_option("given")
    form.get_by_label("Pre-medication: Antipyretic").select_option("not_given")
    for when in ("before", "after"):
        form.get_by_label(f"Systolic blood pressure {when}").fill("122")
        form.get_by_label(f"Diastolic blood pressure {when}").fill("76")
        form.get_by_label(f"Pulse {when}").fill("70")
        if when == "before":
            form.get_by_label(f"Temperature {when}").fill("36.7")
    form.get_by_label("Observed after the infusion").fill("60")
    form.get_by_label("Infusion reaction", exact=True).select_option("0")
    form.get_by_role("button", name="Record the infusion").click()

    # The blank item is named at its field, and nothing is recorded.
    expect(page.locator("#checklist")).to_contain_text("Not recorded: temperature after")
    assert InfusionVisit.objects.get().state == "open"

    page.locator("#checklist").get_by_label("Temperature after").fill("36.9")
    page.locator("#checklist").get_by_role("button", name="Record the infusion").click()
    expect(page.get_by_text("infusion recorded; monitoring updated.")).to_be_visible()
    expect(page.locator("#infusions")).to_contain_text(patient_a.listing_name)
    expect(page.locator("#infusions")).to_contain_text("Infusion recorded")
    assert on_ocrelizumab.administrations.filter(given_on=timezone.localdate()).exists()
