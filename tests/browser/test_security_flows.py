"""In a real browser: two-step sign-in, and an htmx request after the idle time-out goes to the
login page instead of swapping a login form into the panel."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, totp_code, totp_code_for_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_step_sign_in_with_an_authenticator_code(settings, cast, page, live_server):
    settings.MFA_REQUIRED = True
    nurse = cast["nurse"]
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(nurse.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    # The password alone opens nothing.
    page.goto(f"{live_server.url}/treatments/worklist/")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/"))
    page.get_by_label(re.compile("6-digit code")).fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code did not match")).to_be_visible()
    time.sleep(1.2)  # django-otp throttles a device for a second after a wrong code
    page.get_by_label(re.compile("6-digit code")).fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Monitoring worklist")).to_be_visible()


def test_first_sign_in_enrols_an_authenticator(settings, cast, page, live_server):
    settings.MFA_REQUIRED = True
    neurologist = cast["neurologist"]
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(neurologist.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    # Nothing is saved until the app proves it holds the secret.
    assert not TOTPDevice.objects.filter(user=neurologist).exists()
    manual_key = page.get_by_test_id("manual-key").inner_text()
    page.get_by_label(re.compile("6-digit code")).fill(totp_code_for_key(manual_key))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    assert TOTPDevice.objects.get(user=neurologist).confirmed


def test_an_htmx_request_after_the_idle_time_out_lands_on_the_login_page(
    settings, cast, sign_in_as, page
):
    settings.SESSION_IDLE_TIMEOUT = timedelta(seconds=2)
    sign_in_as(cast["neurologist"])
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    time.sleep(2.5)
    # Changing a filter fires an htmx GET for the table only.
    page.get_by_label("Relapse in the last 90 days").check()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.get_by_role("heading", name="Sign in to Myelin")).to_be_visible()
    assert page.locator("#caseload-table").count() == 0  # no login form swapped into the table
    expect(page.get_by_text("Your session timed out")).to_be_visible()
