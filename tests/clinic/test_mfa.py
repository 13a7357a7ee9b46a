"""Two-step sign-in with an authenticator app (TOTP).

The set-up page shows a secret: it is never cached, and nothing is saved until a code from the
app proves the secret arrived. After enrolment nobody sees the secret again.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.mfa import PENDING_SECRET
from clinic.audit.models import AccessEvent
from tests.factories import TEST_PASSWORD, totp_code, totp_code_for_key


@pytest.fixture
def mfa_on(settings):
    settings.MFA_REQUIRED = True


def password_step(client: Client, user) -> None:
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


def manual_key_on(page: str) -> str:
    match = re.search(r'data-testid="manual-key">([A-Z2-7 ]+)<', page)
    assert match, "the set-up page shows no manual key"
    return match.group(1)


def test_a_first_sign_in_with_mfa_on_must_enrol_a_device_before_any_page(
    mfa_on, client, neurologist, patient_a
):
    password_step(client, neurologist)
    # The password alone opens nothing.
    response = client.get(patient_a.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/setup/"
    setup = client.get("/accounts/mfa/setup/").content.decode()
    assert "<svg" in setup
    response = client.post(
        "/accounts/mfa/setup/", {"token": totp_code_for_key(manual_key_on(setup))}
    )
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=neurologist)
    assert device.confirmed
    assert client.get(patient_a.get_absolute_url()).status_code == 200
    assert AccessEvent.objects.filter(user=neurologist, detail="MFA device enrolled").exists()


def test_opening_the_set_up_page_saves_no_device(mfa_on, client, neurologist):
    password_step(client, neurologist)
    client.get("/accounts/mfa/setup/")
    client.get("/accounts/mfa/setup/")
    assert not TOTPDevice.objects.filter(user=neurologist).exists()


def test_the_set_up_page_is_never_cached(mfa_on, client, neurologist):
    password_step(client, neurologist)
    response = client.get("/accounts/mfa/setup/")
    assert "no-store" in response["Cache-Control"]
    client.get("/accounts/mfa/setup/")
    wrong = client.post("/accounts/mfa/setup/", {"token": "000000"})
    assert "no-store" in wrong["Cache-Control"]  # the error page shows the secret too


def test_a_reload_keeps_the_secret_the_app_already_scanned(mfa_on, client, neurologist):
    password_step(client, neurologist)
    first = manual_key_on(client.get("/accounts/mfa/setup/").content.decode())
    second = manual_key_on(client.get("/accounts/mfa/setup/").content.decode())
    assert first == second
    response = client.post("/accounts/mfa/setup/", {"token": totp_code_for_key(first)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=neurologist).confirmed


def test_a_wrong_code_is_refused_at_the_field_and_saves_nothing(mfa_on, client, neurologist):
    password_step(client, neurologist)
    client.get("/accounts/mfa/setup/")
    response = client.post("/accounts/mfa/setup/", {"token": "000000"})
    assert response.status_code == 422
    assert "did not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=neurologist).exists()


def test_a_code_that_is_not_digits_is_refused_at_the_field(mfa_on, client, neurologist):
    password_step(client, neurologist)
    response = client.post("/accounts/mfa/setup/", {"token": "12ab56"})
    assert response.status_code == 422
    assert "The code is 6 digits." in response.content.decode()


def test_another_users_pending_secret_in_the_session_is_not_used(
    mfa_on, client, neurologist, nurse
):
    # The pending secret is bound to the user it was made for: if a session somehow carried
    # someone else's, the set-up page makes a fresh one instead of enrolling theirs.
    password_step(client, nurse)
    nurse_key = manual_key_on(client.get("/accounts/mfa/setup/").content.decode())
    carried = client.session[PENDING_SECRET]
    client.post("/accounts/logout/")
    password_step(client, neurologist)
    session = client.session
    session[PENDING_SECRET] = carried
    session.save()
    assert manual_key_on(client.get("/accounts/mfa/setup/").content.decode()) != nurse_key


def test_a_tampered_pending_secret_is_replaced(mfa_on, client, neurologist):
    password_step(client, neurologist)
    key = manual_key_on(client.get("/accounts/mfa/setup/").content.decode())
    session = client.session
    session[PENDING_SECRET] = session[PENDING_SECRET][:-2] + "xx"
    session.save()
    assert manual_key_on(client.get("/accounts/mfa/setup/").content.decode()) != key


def test_after_enrolment_the_set_up_page_shows_no_secret(mfa_on, client, neurologist):
    password_step(client, neurologist)
    key = manual_key_on(client.get("/accounts/mfa/setup/").content.decode())
    client.post("/accounts/mfa/setup/", {"token": totp_code_for_key(key)})
    response = client.get("/accounts/mfa/setup/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/verify/"
    assert PENDING_SECRET not in client.session


def test_the_enrolment_code_cannot_be_replayed_to_sign_in(mfa_on, neurologist):
    laptop = Client()
    password_step(laptop, neurologist)
    key = manual_key_on(laptop.get("/accounts/mfa/setup/").content.decode())
    code = totp_code_for_key(key)
    laptop.post("/accounts/mfa/setup/", {"token": code})
    # Someone who watched the code being typed tries it on another machine at once.
    other = Client()
    password_step(other, neurologist)
    response = other.post("/accounts/mfa/verify/", {"token": code})
    assert response.status_code == 422


def test_an_enrolled_user_is_asked_for_a_code_after_the_password(mfa_on, client, nurse):
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    response = client.post(
        "/accounts/login/", {"username": nurse.username, "password": TEST_PASSWORD}
    )
    assert response["Location"].startswith("/accounts/mfa/verify/")
    assert client.get("/treatments/worklist/").status_code == 302
    response = client.post("/accounts/mfa/verify/", {"token": totp_code(device)})
    assert response.status_code == 302
    assert client.get("/treatments/worklist/").status_code == 200


def test_an_htmx_request_before_the_code_is_sent_to_the_mfa_page(mfa_on, client, nurse):
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    password_step(client, nurse)
    response = client.get("/patients/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/accounts/mfa/verify/"
