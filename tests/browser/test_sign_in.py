"""Each role signs in in a real browser and lands on its own page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

LANDING = {
    "neurologist": ("/patients/caseload/", "My caseload"),
    "nurse": ("/treatments/worklist/", "Monitoring worklist"),
    "therapist": ("/referrals/", "Referral board"),
    "admin": ("/system/status/", "System status"),
}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("role", LANDING)
def test_each_role_signs_in_and_lands_on_its_page(role, cast, sign_in_as, page):
    path, heading = LANDING[role]
    sign_in_as(cast[role])
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # The page is served with a CSP nonce, and htmx (served by the app itself) is loaded.
    assert page.evaluate("typeof window.htmx") == "object"


def test_a_wrong_password_shows_a_message_and_keeps_the_username(cast, page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(cast["nurse"].username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")
    expect(page.get_by_label("Username")).to_have_value(cast["nurse"].username)
