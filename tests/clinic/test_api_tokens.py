"""Personal API tokens: created on the account page and shown once, stored only as a digest,
revoked by their owner or by a password reset, and refused once spoiled."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.accounts import tokens
from clinic.accounts.models import ApiToken
from clinic.accounts.staff import services as staff
from clinic.audit.models import AccessEvent, Action, Category
from clinic.permissions import CapabilityDenied
from tests.conftest import sign_in


def test_a_nurse_creates_a_token_and_sees_its_secret_only_once(nurse, signed_in):
    client = signed_in(nurse)

    response = client.post(
        reverse("accounts:token_new"), {"name": "Registry upload", "lifetime_days": "30"}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith("myelin_")
    assert len(secret) > 40
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=nurse)
    # Only a digest is kept: the secret cannot be read back from the database.
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.digest}
    assert secret.startswith(token.prefix)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    event = AccessEvent.objects.latest("id")
    assert (event.action, event.category) == (Action.CREATE, Category.ACCOUNT)
    assert secret not in event.detail
    # The account page lists it by its prefix, never with the secret.
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Registry upload" in page
    assert token.prefix in page
    assert secret not in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "lifetime_days": "30"}, "name"),
        ({"name": "x", "lifetime_days": "7"}, "lifetime_days"),
    ],
)
def test_bad_input_is_explained_next_to_the_field(data, field, nurse, signed_in):
    response = signed_in(nurse).post(reverse("accounts:token_new"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not ApiToken.objects.exists()


def test_a_therapist_may_not_hold_a_token(therapist, signed_in):
    client = signed_in(therapist)

    assert client.get(reverse("accounts:token_new")).status_code == 403
    assert client.post(reverse("accounts:token_new"), {"name": "x"}).status_code == 403
    with pytest.raises(CapabilityDenied):
        tokens.create_token(user=therapist, name="x", lifetime_days=30)
    assert "Create an API token" not in client.get(reverse("accounts:profile")).content.decode()


def test_an_owner_revokes_their_token_and_nobody_else_can(nurse, neurologist):
    token, secret = tokens.create_token(user=nurse, name="Registry", lifetime_days=30)

    refused = sign_in(Client(), neurologist).post(
        reverse("accounts:token_revoke"), {"token": token.pk}
    )
    assert refused.status_code == 404
    assert tokens.authenticate(secret) is not None

    response = sign_in(Client(), nurse).post(reverse("accounts:token_revoke"), {"token": token.pk})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert tokens.authenticate(secret) is None
    assert AccessEvent.objects.filter(
        user=nurse, category=Category.ACCOUNT, detail__contains="revoked"
    ).exists()


def test_a_password_reset_revokes_every_token_of_the_user(nurse, admin_user):
    _, first = tokens.create_token(user=nurse, name="One", lifetime_days=30)
    _, second = tokens.create_token(user=nurse, name="Two", lifetime_days=90)

    staff.reset_password(user=nurse, by=admin_user)

    assert tokens.authenticate(first) is None
    assert tokens.authenticate(second) is None
    assert ApiToken.objects.filter(user=nurse, revoked_at__isnull=True).count() == 0


def test_the_last_use_is_written_at_most_every_few_minutes(nurse):
    token, secret = tokens.create_token(user=nurse, name="Registry", lifetime_days=30)

    with CaptureQueriesContext(connection) as first:
        tokens.authenticate(secret)
    with CaptureQueriesContext(connection) as again:
        tokens.authenticate(secret)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        tokens.authenticate(secret)
        later = timezone.now()

    assert len(first.captured_queries) == 2  # the lookup, and the first use written
    assert len(again.captured_queries) == 1  # the lookup only
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert later - token.last_used_at < timedelta(seconds=5)
