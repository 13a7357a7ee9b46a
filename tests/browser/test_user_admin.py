"""In a real browser: the clinic admin creates a nurse's account, and the nurse's first sign-in
with the temporary password goes to choosing her own before anything else."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clinic.audit.models import AccessEvent, Category

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_creates_an_account_and_its_owner_chooses_a_password(
    cast, team_a, sign_in_as, page, live_server
):
    sign_in_as(cast["admin"])
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Username").fill("nurse.ola")
    page.get_by_label("First name").fill("Ola")
    page.get_by_label("Last name").fill("Berg")
    page.get_by_label("Role").select_option("nurse")
    page.get_by_label("Team A").check()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="Account created")).to_be_visible()
    password = page.get_by_test_id("temporary-password").inner_text()
    assert AccessEvent.objects.filter(
        user=cast["admin"], category=Category.ADMINISTRATION, detail="account created"
    ).exists()
    page.get_by_role("button", name="Sign out").click()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("nurse.ola")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))
    expect(page.get_by_text("Your password was set by a clinic admin")).to_be_visible()
    page.goto(f"{live_server.url}/treatments/worklist/")
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))
    page.get_by_label("Old password").fill(password)
    page.locator("#id_new_password1").fill("ola-chooses-her-own-42")
    page.locator("#id_new_password2").fill("ola-chooses-her-own-42")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Monitoring worklist")).to_be_visible()
