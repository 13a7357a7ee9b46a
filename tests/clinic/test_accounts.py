"""Signing in, landing pages, sign-out and password change."""

from __future__ import annotations

import pytest

from clinic.audit.models import AccessEvent, Action
from tests.factories import TEST_PASSWORD

LANDING = {
    "neurologist": "/patients/caseload/",
    "nurse": "/treatments/worklist/",
    "therapist": "/referrals/",
    "admin": "/system/status/",
}


@pytest.mark.parametrize("role", LANDING)
def test_each_role_lands_on_its_own_page(role, client, cast):
    client.post("/accounts/login/", {"username": cast[role].username, "password": TEST_PASSWORD})
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == LANDING[role]
    assert response.status_code == 200


def test_every_page_needs_a_signed_in_user(client, patient_a):
    response = client.get(patient_a.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_htmx_request_without_a_session_is_sent_to_the_login_page_not_swapped(client, patient_a):
    response = client.get(
        "/patients/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/patients/"},
    )
    # htmx follows HX-Redirect with a full page load instead of swapping a login form into a panel.
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/patients/")
    assert response.content == b""


def test_unknown_user_and_wrong_password_get_identical_answers(client, neurologist):
    wrong_password = client.post(
        "/accounts/login/", {"username": neurologist.username, "password": "nope-nope-nope"}
    )
    unknown_user = client.post(
        "/accounts/login/", {"username": "nobody-here", "password": "nope-nope-nope"}
    )
    assert wrong_password.status_code == unknown_user.status_code == 200

    def errors(response):
        return response.context["form"].non_field_errors()

    assert errors(wrong_password) == errors(unknown_user)


def test_signing_in_rotates_the_session_id_and_is_audited(client, neurologist):
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    client.post("/accounts/login/", {"username": neurologist.username, "password": TEST_PASSWORD})
    assert client.session.session_key != before
    assert AccessEvent.objects.filter(user=neurologist, action=Action.LOGIN).exists()


def test_signing_out_ends_the_session(signed_in, neurologist):
    client = signed_in(neurologist)
    client.post("/accounts/logout/")
    assert client.get("/patients/").status_code == 302


def test_password_change_refuses_a_short_password_with_a_message(signed_in, neurologist):
    client = signed_in(neurologist)
    response = client.post(
        "/accounts/password/",
        {"old_password": TEST_PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()


def test_password_change_works(signed_in, neurologist):
    client = signed_in(neurologist)
    new = "a-much-better-passphrase-2026"
    response = client.post(
        "/accounts/password/",
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    neurologist.refresh_from_db()
    assert neurologist.check_password(new)


@pytest.mark.parametrize("role", ["neurologist", "nurse", "therapist"])
def test_status_page_is_for_admins_only(role, signed_in, cast):
    assert signed_in(cast[role]).get("/system/status/").status_code == 403


def test_navigation_is_role_aware(signed_in, cast):
    nurse_page = signed_in(cast["nurse"]).get("/treatments/worklist/").content.decode()
    assert "Monitoring" in nurse_page
    assert "Caseload" not in nurse_page
    assert "System status" not in nurse_page
