"""aHSCT in Chromium: the neurologist refers Alice to a transplant centre, records the centre's
acceptance on its behalf, records the transplant, and sees the post-transplant monitoring."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from treatments.catalogue import services as catalogue_services
from treatments.models import ClinicSettings, MonitoringItem

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_neurologist_refers_for_ahsct_and_records_the_transplant(
    cast: Any, patient_a: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    catalogue_services.load_catalogue()
    clinic = ClinicSettings.load()
    clinic.label_region = "EU"
    clinic.save()
    patient_a.sex, patient_a.date_of_birth = "male", date(1990, 5, 4)
    patient_a.save()
    neurologist = cast["neurologist"]

    sign_in_as(neurologist)
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    page.get_by_role("link", name="Stem-cell transplant").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stem-cell transplantation")
    expect(page.get_by_text("Highly active relapsing-remitting MS")).to_be_visible()

    page.get_by_role("link", name="Refer to a transplant centre").click()
    expect(page.get_by_label("Discipline")).to_have_value("transplant_centre")
    page.get_by_label("Reason").fill("Two relapses on natalizumab with new lesions: aHSCT?")
    page.get_by_role("button", name="Send referral").click()
    expect(page.locator("#referral-state")).to_have_text("Sent")
    # The centre is outside the team: the neurologist records its answer.
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#referral-state")).to_have_text("Accepted")

    page.goto(f"{live_server.url}/transplant/patient/{patient_a.external_id}/")
    page.get_by_label("Transplant-centre referral").select_option(index=1)
    page.locator("#id_centre").fill("Northern Transplant Centre")
    page.get_by_label("Conditioning").select_option("beam_atg")
    page.get_by_label("Stem-cell reinfusion (day 0)").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Record the transplant").click()
    expect(page.get_by_text("Transplant recorded")).to_be_visible()
    expect(page.get_by_test_id("transplant")).to_contain_text("Northern Transplant Centre")
    expect(page.get_by_test_id("transplant-items")).to_contain_text("CMV and EBV DNA PCR")
    assert MonitoringItem.objects.filter(patient=patient_a, plan__drug_key="ahsct").count() > 20
