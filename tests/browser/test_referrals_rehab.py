"""The referral and rehab main path in Chromium: a neurologist refers Alice to physiotherapy,
the physiotherapist works the referral and logs a session with outcome measures, and the
neurologist reads and acknowledges the summary and sees the trend."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_a_referral_to_physiotherapy_from_sending_to_acknowledgement(
    cast, patient_a, sign_in_as, page, live_server
):
    neurologist, physio = cast["neurologist"], cast["therapist"]

    # The neurologist refers Alice to physiotherapy.
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/referrals/patient/{patient_a.external_id}/")
    page.get_by_role("link", name="New referral").click()
    page.get_by_label("Discipline").select_option("physiotherapy")
    page.get_by_label("Urgency").select_option("soon")
    page.get_by_label("Reason").fill("Two falls this month; please assess balance and gait.")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral to Physiotherapy")
    expect(page.locator("#referral-state")).to_have_text("Sent")
    sign_out(page)

    # The physiotherapist finds it on the board, new, and works it.
    sign_in_as(physio)
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral board")
    page.get_by_role("link", name=re.compile("ARCHER, Alice")).click()
    page.get_by_role("button", name="Mark triaged").click()
    expect(page.locator("#referral-state")).to_have_text("Triaged")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#referral-state")).to_have_text("Accepted")
    appointment = timezone.localdate() + timedelta(days=3)
    page.get_by_label("Appointment date").fill(appointment.isoformat())
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("#referral-state")).to_have_text("Scheduled")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#referral-state")).to_have_text("In progress")
    referral_url = page.url

    # A session with a walk test and a Berg score.
    page.get_by_role("link", name="Rehab").click()
    page.get_by_role("link", name="Log a session").click()
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Balance training").check()
    page.get_by_label("Gait training").check()
    page.locator("#id_t25fw-trial_1").fill("7.8")
    page.locator("#id_t25fw-trial_2").fill("8.0")
    page.locator("#id_bbs-total").fill("44")
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text("Session logged.")).to_be_visible()
    expect(page.locator(".rehab-session")).to_have_count(1)

    # Completed with a summary back to the referrer.
    page.goto(referral_url)
    page.get_by_label("Summary for the referrer").fill(
        "Berg 44 (fall risk); T25FW 7.9 s. Home balance programme and a stick for outdoors."
    )
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#referral-state")).to_have_text("Completed")
    sign_out(page)

    # The neurologist sees the summary, acknowledges it, and sees the trend.
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/referrals/")
    expect(page.get_by_text("Summary to acknowledge")).to_be_visible()
    page.get_by_role("link", name=re.compile("ARCHER, Alice")).click()
    expect(page.locator("#referral-summary")).to_contain_text("Home balance programme")
    page.get_by_role("button", name="Acknowledge summary").click()
    expect(page.locator("#referral-state")).to_have_text("Acknowledged")
    page.get_by_role("link", name="Rehab").click()
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Timed 25-Foot Walk"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Berg Balance Scale"))).to_be_visible()
