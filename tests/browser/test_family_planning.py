"""Family planning and pregnancy in Chromium: the MS nurse plans Alice's conception around her
fingolimod and sees when to stop it; then the record catches up with events (a pregnancy
conceived 38 weeks ago, routine MRI deferred, and the delivery today with breast-feeding), and
she reads when to restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from treatments.catalogue import services as catalogue_services
from treatments.models import ClinicSettings
from treatments.plans import services as plan_services
from treatments.protocols import add_months

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_nurse_plans_a_conception_then_records_the_pregnancy_and_the_delivery(
    cast: Any, patient_a: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    # A transactional test before this one may have flushed the catalogue the migration loaded.
    catalogue_services.load_catalogue()
    clinic = ClinicSettings.load()
    clinic.label_region = "EU"
    clinic.save()
    today = timezone.localdate()
    patient_a.sex, patient_a.date_of_birth = "female", today.replace(year=today.year - 31)
    patient_a.save()
    neurologist, nurse = cast["neurologist"], cast["nurse"]
    started = add_months(today, -12)
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="fingolimod", by=neurologist, planned_on=started
    )
    plan_services.start_dmt_plan(
        plan=plan, started_on=started, override_reason="Baseline at the GP", by=neurologist
    )

    sign_in_as(nurse)
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    page.get_by_role("link", name="Family planning").click()
    expect(page.get_by_test_id("family-rule")).to_contain_text("Stop 2 months before conception")
    conceive_on = add_months(today, 5)
    page.get_by_label("Intended conception date").fill(conceive_on.isoformat())
    page.get_by_role("button", name="Plan conception").click()
    expect(page.get_by_text("Conception planned")).to_be_visible()
    stop_on = add_months(conceive_on, -2)
    expect(page.get_by_test_id("planner-steps")).to_contain_text(f"{stop_on:%d %b %Y}")
    expect(page.get_by_test_id("planner-steps")).to_contain_text("Stop Fingolimod")

    # A pregnancy whose conception date is in the future is refused at the field.
    page.get_by_label("Conception date (estimated)").fill((today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Record a pregnancy").click()
    expect(page.get_by_text("A conception date cannot be in the future.")).to_be_visible()

    # Alice conceived earlier than planned: about 38 weeks ago.
    conceived = today - timedelta(days=266)
    page.get_by_label("Conception date (estimated)").fill(conceived.isoformat())
    page.get_by_role("button", name="Record a pregnancy").click()
    expect(page.get_by_text("Pregnancy recorded.")).to_be_visible()
    expect(page.get_by_test_id("ongoing-pregnancy")).to_contain_text("expected delivery")
    expect(page.get_by_text("Fingolimod is contraindicated in pregnancy")).to_be_visible()
    # Which items are deferred is the service's (tests/family); the page says what it means.
    expect(page.get_by_text("Routine MRI is deferred until after the delivery")).to_be_visible()

    # The delivery, with breast-feeding: fingolimod waits until breast-feeding ends.
    page.get_by_label("Outcome").select_option("delivered")
    page.get_by_label("Delivery or end date").fill(today.isoformat())
    page.get_by_label("Breast-feeding").check()
    page.get_by_role("button", name="Record the end of the pregnancy").click()
    expect(page.get_by_text("Recorded. The restart plan is below.")).to_be_visible()
    expect(page.get_by_test_id("restart-steps")).to_contain_text("when breast-feeding ends")
    expect(page.get_by_test_id("restart-steps")).to_contain_text("New baseline brain MRI")

    # On the patient's timeline.
    page.get_by_role("link", name="Patient page").click()
    expect(page.get_by_text("Delivery (breast-feeding)")).to_be_visible()
