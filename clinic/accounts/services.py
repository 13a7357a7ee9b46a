"""Account workflows: sessions that end everywhere, deactivation, emergency access."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from clinic.accounts.models import Role, User, UserSession
from clinic.accounts.sessions import SessionStore
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure


def track_session(*, request: HttpRequest, user: User) -> None:
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.get_or_create(
        session_key=request.session.session_key, defaults={"user": user}
    )


def end_all_sessions(*, user: User) -> int:
    """Delete every server-side session of this user: their cookies stop working at once."""
    with transaction.atomic():
        keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
        for key in keys:
            SessionStore(session_key=key).delete()  # the cached copy and the row
        UserSession.objects.filter(user=user).delete()
    return len(keys)


def deactivate_user(*, user: User, by: User) -> None:
    ensure(by, Perm.USER_MANAGE)
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        end_all_sessions(user=user)
        audit.record(
            user=by,
            action=Action.UPDATE,
            category=Category.ADMINISTRATION,
            obj=user,
            detail="deactivated",
        )


def admins() -> list[User]:
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(email=""))
