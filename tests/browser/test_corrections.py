"""Issue #15's browser path: a neurologist marks a wrong EDSS as entered in error, and the chart
and the confirmed disability progression change with it; the EDSS stays, struck through."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.records import services
from tests.patients.conftest import STEP_SCORES

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_neurologist_marks_a_wrong_edss_entered_in_error_and_cdp_follows(
    neurologist, nurse, patient_a, sign_in_as, page, live_server
):
    today = timezone.localdate()
    for days_ago, step, by in ((400, "2.0", neurologist), (300, "3.0", neurologist)):
        services.record_edss(
            patient=patient_a,
            assessed_on=today - timedelta(days=days_ago),
            scores=STEP_SCORES[step],
            by=by,
        )
    # Entered by the nurse on the wrong patient: it confirms a progression Alice never had.
    wrong_on = today - timedelta(days=150)
    services.record_edss(
        patient=patient_a, assessed_on=wrong_on, scores=STEP_SCORES["3.0"], by=nurse
    )

    sign_in_as(neurologist)
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    header = page.locator("#patient-header")
    expect(header).to_contain_text("Confirmed")
    expect(page.locator("#edss-chart svg circle")).to_have_count(3)

    row = page.locator("#edss-section tbody tr", has_text=wrong_on.strftime("%d %b %Y"))
    row.get_by_role("link", name="Entered in error").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entered in error: EDSS assessment")
    # Without a reason nothing changes, and the form says why, in place.
    page.get_by_role("button", name="Mark entered in error").click()
    expect(page.locator("#correction-form")).to_contain_text("Give the reason for the correction")
    page.get_by_label("Reason for the correction").fill("Recorded on the wrong patient")
    page.get_by_role("button", name="Mark entered in error").click()

    # Back on the patient page: no progression, two points on the chart, the EDSS kept.
    expect(page.locator("#messages")).to_contain_text("EDSS assessment marked entered in error")
    expect(header).to_contain_text("No confirmed progression")
    expect(page.locator("#edss-chart svg circle")).to_have_count(2)
    struck = page.locator("#edss-section tr.corrected")
    expect(struck).to_have_count(1)
    expect(struck).to_contain_text("Recorded on the wrong patient")
    expect(struck).to_contain_text("Ada Reyes")
    expect(struck.get_by_role("link", name="Entered in error")).to_have_count(0)
    expect(page.locator("#timeline li.corrected")).to_contain_text("Entered in error")
