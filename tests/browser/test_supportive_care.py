"""The supportive care main path in Chromium: the nurse sets a vitamin D goal for Alice from her
patient page, sees it in the panel, and reviews it as achieved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supportive_care_goal_from_setting_to_review(
    cast, patient_a, sign_in_as, page, live_server
):
    nurse = cast["nurse"]
    today = timezone.localdate()
    sign_in_as(nurse)
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    panel = page.locator("#supportive-panel")
    expect(panel).to_contain_text("No supportive care goal in progress")
    panel.get_by_role("link", name="Set a goal").click()

    page.get_by_label("Area").select_option(label="Vitamin D")
    page.locator("#id_goal").fill("Replace vitamin D and recheck the level")
    page.get_by_label("Review by").fill((today + timedelta(days=90)).isoformat())
    page.get_by_label("25-OH vitamin D level").fill("16")
    page.get_by_label("Unit").select_option("ng/mL")
    page.get_by_label("Level measured on").fill((today - timedelta(days=2)).isoformat())
    page.get_by_label("Supplementation").fill("colecalciferol 1,000 IU daily")
    page.get_by_role("button", name="Set the goal").click()

    goals = page.locator("#supportive-goals")
    expect(goals).to_contain_text("39.9 nmol/L")
    expect(goals).to_contain_text("colecalciferol 1,000 IU daily")

    # Back on the patient page: the panel and the timeline show it.
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    expect(page.locator("#supportive-panel")).to_contain_text("Replace vitamin D")
    expect(page.locator("#timeline")).to_contain_text("Supportive care goal: Vitamin D")

    # The review closes it.
    page.locator("#supportive-panel").get_by_role("link", name="Vitamin D").click()
    page.get_by_label("Status after this review").select_option(label="Achieved")
    page.get_by_label("Note").fill("Level in range on recheck")
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator("#supportive-closed")).to_contain_text("achieved")
    expect(page.locator("#supportive-goals")).to_contain_text("No supportive care goal in progress")
