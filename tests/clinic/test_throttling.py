"""Sign-in throttling: 5 failures lock a username (and a username at one address), a much higher
count locks an address, and an attacker's own successful sign-ins reset nothing that protects
other accounts. Every refusal looks the same whether or not the username exists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone

from clinic.accounts.throttling import client_address
from tests.factories import TEST_PASSWORD

WARD = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


def attempt(client: Client, username: str, password: str, address: str = WARD):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(client: Client, username: str, address: str = WARD):
    return attempt(client, username, "wrong-password", address)


def sign_in_ok(user, address: str = WARD) -> bool:
    """A successful sign-in from a fresh browser at this address."""
    return attempt(Client(), user.username, TEST_PASSWORD, address).status_code == 302


def answer(response, username: str) -> tuple[int, str]:
    """What a person at the keyboard learns: the status and the page, less the username they
    typed and the per-response CSRF token and script nonce."""
    body = response.content.decode().replace(username, "USERNAME")
    body = re.sub(r'(value="|"X-CSRFToken": ")[A-Za-z0-9]{64}"', r'\1TOKEN"', body)
    return response.status_code, re.sub(r'nonce="[^"]+"', 'nonce="NONCE"', body)


def test_five_failures_lock_the_username_even_for_the_right_password(client, neurologist):
    for _ in range(5):
        fail(client, neurologist.username)
    locked = attempt(client, neurologist.username, TEST_PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert client.get("/patients/").status_code != 200


def test_a_locked_username_is_locked_from_every_address(neurologist):
    for _ in range(5):
        fail(Client(), neurologist.username, ELSEWHERE)
    assert not sign_in_ok(neurologist, WARD)


def test_five_typos_by_one_user_do_not_lock_out_another_user_on_the_same_address(
    neurologist, nurse
):
    for _ in range(5):
        fail(Client(), nurse.username)
    assert not sign_in_ok(nurse)
    assert sign_in_ok(neurologist)


def test_a_successful_sign_in_clears_the_users_own_counter(neurologist):
    for _ in range(4):
        fail(Client(), neurologist.username)
    assert sign_in_ok(neurologist)
    for _ in range(4):
        fail(Client(), neurologist.username)
    assert sign_in_ok(neurologist)


def test_failures_from_one_address_lock_that_address_at_the_address_limit(nurse):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT * 3  # "much higher" than the per-user limit
    client = Client()
    for n in range(limit - 1):
        assert fail(client, f"guess{n}").status_code == 200
    assert fail(client, "guess-last").status_code == 429
    assert not sign_in_ok(nurse)
    assert sign_in_ok(nurse, ELSEWHERE)  # the lock is on the address, not on the nurse


def test_24_failures_with_interleaved_own_sign_ins_are_refused_after_the_address_limit(
    therapist, neurologist, nurse, other_neurologist
):
    """An attacker with an account of their own guesses other people's passwords from one
    address, signing in as themselves every few guesses to reset the counters."""
    known = [neurologist.username, nurse.username, other_neurologist.username]
    targets = [*known, "dr.nobody", "nurse.nobody", "admin.nobody"]
    attacker = Client()
    refused = []
    for n in range(24):
        # 4 guesses per target: under the per-username limit, so only the address can stop this.
        response = fail(attacker, targets[n % len(targets)])
        refused.append(response.status_code == 429)
        if n % 3 == 2:
            sign_in_ok(therapist)  # the attacker's own account
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert refused == [False] * (limit - 1) + [True] * (24 - limit + 1)
    # Until the cool-off ends nobody signs in from there, the attacker included.
    assert not sign_in_ok(therapist)
    assert not sign_in_ok(neurologist)


def test_the_address_counter_forgets_failures_after_the_cool_off(nurse):
    start = timezone.now()
    client = Client()
    with time_machine.travel(start):
        for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
            fail(client, f"guess{n}")
        assert not sign_in_ok(nurse)
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert sign_in_ok(nurse)


def test_failures_and_lockouts_look_the_same_for_real_and_unknown_usernames(neurologist):
    real, unknown = Client(), Client()
    first_real = fail(real, neurologist.username)
    first_unknown = fail(unknown, "dr.nobody", ELSEWHERE)
    assert answer(first_real, neurologist.username) == answer(first_unknown, "dr.nobody")
    for _ in range(4):
        last_real = fail(real, neurologist.username)
        last_unknown = fail(unknown, "dr.nobody", ELSEWHERE)
    assert last_real.status_code == 429
    assert answer(last_real, neurologist.username) == answer(last_unknown, "dr.nobody")
    # Once locked, even the right password gets the same answer as a wrong one.
    right = attempt(real, neurologist.username, TEST_PASSWORD)
    assert answer(right, neurologist.username) == answer(last_unknown, "dr.nobody")


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.2", "198.51.100.7", "10.0.0.2"),  # no proxy: the header is the client's word
        (1, "10.0.0.2", "198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a forged entry is ignored
        (2, "10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (1, "10.0.0.2", "", "10.0.0.2"),  # did not come through the proxy
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
    ],
)
def test_the_sign_in_address_behind_trusted_proxies(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded
    )
    assert client_address(request) == expected


def test_behind_a_proxy_an_attackers_failures_do_not_lock_out_the_ward(settings, nurse):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        Client().post(
            "/accounts/login/",
            {"username": f"guess{n}", "password": "wrong-password"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, {ELSEWHERE}",  # forging the left part helps not
        )
    ward = Client().post(
        "/accounts/login/",
        {"username": nurse.username, "password": TEST_PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=WARD,
    )
    assert ward.status_code == 302
    attacker = Client().post(
        "/accounts/login/",
        {"username": nurse.username, "password": TEST_PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ELSEWHERE,
    )
    assert attacker.status_code == 429
