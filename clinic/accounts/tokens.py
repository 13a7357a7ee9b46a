"""Personal API tokens: created by their owner, shown once, stored as a digest, revocable,
expiring. A token signs a program in for one request at a time, never into a session.

What a token may reach is decided as for its owner: the permission table (`fhir_export` to hold
one) and the owner's care teams. Requests with a token skip the second sign-in step (the token
was created behind it, and is a secret of its own); they are refused as soon as the owner is
deactivated or must change their password, and every token of a user is revoked when an admin
resets that user's password.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Final

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import ApiToken, User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure

PREFIX: Final = "myelin_"  # marks a Myelin token in a config file or a leak scan
# How long a new token may live, in days: the choices on the form, the default first.
LIFETIMES: Final = (90, 30, 180, 365)
# The last-used time is written at most this often, so a busy program does not rewrite the
# token's row on every request.
LAST_USED_RESOLUTION: Final = timedelta(minutes=5)


def _digest(secret: str) -> str:
    # A token is 256 random bits: a fast hash is enough, there is nothing to guess.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user: User, name: str, lifetime_days: int) -> tuple[ApiToken, str]:
    """A new token for `user` and its secret, which is not kept: show it once."""
    ensure(user, Perm.FHIR_EXPORT)
    if lifetime_days not in LIFETIMES:
        raise ValueError(f"A token lives {', '.join(map(str, sorted(LIFETIMES)))} days.")
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=secret[: len(PREFIX) + 6],
            digest=_digest(secret),
            expires_at=timezone.now() + timedelta(days=lifetime_days),
        )
        audit.record(
            user=user,
            action=Action.CREATE,
            category=Category.ACCOUNT,
            obj=token,
            detail=f"API token {token.prefix}… created, valid {lifetime_days} days",
        )
    return token, secret


def revoke_token(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke one of `by`'s own tokens (idempotent)."""
    if token.user_id != by.pk:
        raise PermissionError("Only the owner of a token may revoke it.")
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            audit.record(
                user=by,
                action=Action.UPDATE,
                category=Category.ACCOUNT,
                obj=token,
                detail=f"API token {token.prefix}… revoked",
            )
    token.refresh_from_db(fields=["revoked_at"])
    return token


def revoke_all_tokens(*, user: User) -> int:
    """Revoke every live token of `user` (a password reset: the account may be compromised)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def authenticate(secret: str) -> ApiToken | None:
    """The live token whose secret this is, with its user loaded, or None. Unknown, expired and
    revoked tokens, and tokens of a deactivated user or one who must change their password,
    are all refused the same way."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    now = timezone.now()
    if token is None or not token.is_usable_at(now):
        return None
    if not token.user.is_active or token.user.must_change_password:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user))
