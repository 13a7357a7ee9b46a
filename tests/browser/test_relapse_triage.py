"""The relapse triage line in Chromium: a nurse takes a call, sees the suggestion and why, logs
it, finds it on her worklist with its clock, records the relapse, starts oral steroids and closes
the call; it is on the patient's timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Relapse
from treatments.catalogue.services import load_catalogue
from treatments.models import SymptomaticTreatment, TriageCall

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_nurse_triages_a_possible_relapse_from_call_to_treatment(
    patient_a: Any, nurse: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    load_catalogue()  # a transactional test empties what the migrations loaded
    onset = timezone.localdate() - timedelta(days=2)
    sign_in_as(nurse)
    page.goto(f"{live_server.url}/treatments/patients/{patient_a.external_id}/")
    page.get_by_role("link", name="Log a relapse triage call").click()

    page.get_by_label("Symptoms began on").fill(onset.isoformat())
    page.get_by_label("Symptoms have lasted (hours)").fill("40")
    page.get_by_label("New or worse symptoms").fill("Left leg weak, dragging the foot")
    page.get_by_label("Pyramidal").check()
    page.get_by_label("Urine dipstick").select_option("negative")
    page.get_by_label("Functional impact").select_option("moderate")
    page.get_by_role("button", name="Show the suggestion").click()
    suggestion = page.locator("#suggestion")
    expect(suggestion).to_contain_text("Suggestion: Possible relapse: urgent review")
    expect(suggestion).to_contain_text("McDonald-2017")
    assert not TriageCall.objects.exists()

    page.get_by_role("button", name="Log the call").click()
    expect(page.get_by_text("Call logged: Possible relapse: urgent review.")).to_be_visible()
    expect(page.locator("#call-clock")).to_contain_text("left")

    # On the worklist, with its clock.
    page.goto(f"{live_server.url}/treatments/worklist/?tab=triage")
    call = TriageCall.objects.get()
    row = page.locator(f"#call-{call.pk}")
    expect(row).to_contain_text("Possible relapse")
    expect(row).to_contain_text("left")
    row.get_by_role("link").nth(1).click()

    page.locator("#relapse").get_by_label("Severity").select_option("moderate")
    page.locator("#relapse").get_by_role("button", name="Record the relapse").click()
    expect(page.get_by_text("Relapse recorded on the patient's record.")).to_be_visible()
    page.locator("#treatment").get_by_label("Relapse treatment").select_option("oral_mp")
    page.locator("#treatment").get_by_role("button", name="Start").click()
    expect(page.get_by_text("Oral methylprednisolone started.")).to_be_visible()

    # Closing without saying how it ended is refused at the field.
    page.locator("#close").get_by_role("button", name="Close").click()
    expect(page.locator("#close")).to_contain_text("This field is required.")
    page.locator("#close").get_by_label("How the call ended").fill("Seen in clinic today")
    page.locator("#close").get_by_role("button", name="Close").click()
    expect(page.get_by_text("Call closed.")).to_be_visible()

    relapse = Relapse.objects.get(patient=patient_a)
    assert relapse.treatment == "oral_steroids"
    assert SymptomaticTreatment.objects.get(patient=patient_a).kind == "relapse"
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    expect(page.locator("#timeline")).to_contain_text("Relapse triage call: possible relapse")
