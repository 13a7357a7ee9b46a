"""Account workflows: sessions that end everywhere, deactivation, emergency access."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.accounts.models import Role, User, UserSession
from clinic.accounts.sessions import SessionStore
from clinic.audit import services as audit
from clinic.audit.models import Action, Category


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


def grant_emergency_access(*, user: User, patient, reason: str, duration: timedelta | None = None):  # type: ignore[no-untyped-def]
    """Break glass: a pre-authorised clinician opens a patient outside their teams for a while.

    Recorded as its own audit event; the clinic admins are told by email after commit.
    """
    from patients.models import EmergencyAccess

    if not user.can_break_glass or not user.is_clinician:
        raise PermissionError("You are not authorised for emergency access.")
    reason = reason.strip()
    if len(reason) < 10:
        raise ValueError("Give the clinical reason for emergency access (at least 10 characters).")
    now = timezone.now()
    with transaction.atomic():
        grant = EmergencyAccess.objects.create(
            user=user,
            patient=patient,
            reason=reason,
            granted_at=now,
            expires_at=now + (duration or EmergencyAccess.DEFAULT_DURATION),
        )
        audit.record(
            user=user,
            patient=patient,
            action=Action.BREAK_GLASS,
            category=Category.DEMOGRAPHICS,
            obj=grant,
            detail="emergency access granted",
        )
        from clinic.accounts.tasks import notify_admins_of_emergency_access
        from clinic.celery import enqueue_on_commit

        enqueue_on_commit(notify_admins_of_emergency_access, grant.pk)
    return grant


def admins() -> list[User]:
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(email=""))
