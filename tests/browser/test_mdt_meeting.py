"""The MDT main path in Chromium: the nurse plans today's meeting and puts Alice on its list from
her page; the neurologist records the decision and gives the nurse an action; the nurse finds it
in her alert inbox, marks it done, and the decision is on Alice's timeline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_an_mdt_meeting_from_planning_to_a_done_action(
    cast, patient_a, sign_in_as, page, live_server
):
    neurologist, nurse = cast["neurologist"], cast["nurse"]
    today = timezone.localdate()

    # The nurse plans today's meeting with the neurologist.
    sign_in_as(nurse)
    page.get_by_role("link", name="MDT", exact=True).click()
    page.get_by_role("link", name="Plan a meeting").click()
    page.get_by_label("Date of the meeting").fill(today.isoformat())
    page.get_by_label("Title").fill("Weekly MDT")
    page.get_by_label("Ada Reyes (Neurologist)").check()
    page.get_by_label("Sam Kim (MS nurse)").check()
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Weekly MDT")

    # ... and puts Alice on its list from her page, with the question.
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    page.get_by_role("link", name="Add to MDT").click()
    page.get_by_label("Question").fill("Two relapses on teriflunomide: escalate?")
    page.get_by_role("button", name="Add to the meeting").click()
    expect(page.get_by_text("Added to the MDT meeting")).to_be_visible()
    sign_out(page)

    # The neurologist records the decision and assigns an action to the nurse.
    sign_in_as(neurologist)
    page.get_by_role("link", name="MDT", exact=True).click()
    page.get_by_role("link", name="Weekly MDT").click()
    expect(page.locator("#mdt-cases")).to_contain_text("escalate?")
    page.get_by_role("link", name="Record outcome and actions").click()
    page.get_by_label("Discussion").fill("Active disease despite treatment.")
    page.get_by_label("Decision").fill("Switch to natalizumab if JCV negative")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#mdt-outcome")).to_contain_text("Switch to natalizumab")
    page.get_by_label("Action").fill("Send JCV antibody test")
    page.get_by_label("Who").select_option(label="Sam Kim (MS nurse)")
    page.get_by_label("Due").fill((today + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#mdt-actions-list")).to_contain_text("Send JCV antibody test")
    sign_out(page)

    # The nurse finds the action in her alert inbox and marks it done.
    sign_in_as(nurse)
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    block = page.locator("#mdt-actions")
    expect(block).to_contain_text("Send JCV antibody test")
    block.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(page.locator("#mdt-actions")).to_contain_text("No open MDT actions")

    # The meeting's outcome is on Alice's timeline.
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    expect(page.locator("#timeline")).to_contain_text("MDT decision: Switch to natalizumab")
    expect(page.locator("#timeline")).to_contain_text("MDT action done: Send JCV antibody test")
