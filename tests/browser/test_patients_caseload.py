"""A neurologist's main path: caseload filter, patient record, EDSS, relapse, MRI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_neurologist_finds_a_patient_and_records_the_clinical_picture(
    neurologist, team_a, patient_a, sign_in_as, page, live_server
):
    PatientFactory(
        family_name="Progressive", care_team=team_a, neurologist=neurologist, current_course="spms"
    )
    patient_a.current_course = "rrms"
    patient_a.save()
    sign_in_as(neurologist)
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")

    # The course filter narrows the table in place and puts itself in the URL.
    page.get_by_label("Disease course").select_option("rrms")
    expect(page).to_have_url(re.compile(r"course=rrms"))
    table = page.locator("#caseload-table")
    expect(table).not_to_contain_text("PROGRESSIVE")
    table.get_by_role("link", name="ARCHER, Alice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ARCHER, Alice")

    # An EDSS from FS grades: the step is previewed as the grades are typed, then saved.
    page.get_by_role("link", name="Record EDSS").click()
    page.get_by_label("Pyramidal").fill("3")
    page.get_by_label("Sensory").fill("2")
    expect(page.locator("#edss-result")).to_contain_text("EDSS 3.5")
    page.get_by_role("button", name="Save EDSS").click()
    expect(page.locator("#messages")).to_contain_text("EDSS 3.5 recorded")
    expect(page.locator("#edss-section")).to_contain_text("3.5")

    # A relapse.
    onset = timezone.localdate() - timedelta(days=10)
    page.get_by_role("link", name="Record relapse").click()
    page.get_by_label("Onset").fill(onset.isoformat())
    page.get_by_label("Symptoms").fill("Double vision")
    page.get_by_label("Brainstem").check()
    page.get_by_label("Severity").select_option("moderate")
    page.get_by_label("Infection excluded").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#relapse-section")).to_contain_text("Double vision")

    # An MRI with activity.
    page.get_by_role("link", name="Record MRI").click()
    page.get_by_label("Scan date").fill(onset.isoformat())
    page.get_by_label("Gadolinium given").check()
    page.get_by_label("New or enlarging T2 lesions").fill("2")
    page.get_by_label("Gadolinium-enhancing lesions").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#mri-section")).to_contain_text("3 T")

    # Timeline and chart have all three.
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("EDSS 3.5")
    expect(timeline).to_contain_text("Relapse (moderate)")
    expect(timeline).to_contain_text("MRI: 2 new/enlarging T2, 1 Gd+")
    expect(page.locator("#edss-chart svg circle")).to_have_count(1)
    expect(page.locator("#edss-chart svg .marker")).to_have_count(1)
    expect(page.locator("#patient-header")).to_contain_text("last 90 days")
