"""Break glass: the workflow behind emergency access to a patient outside one's care teams."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from clinic.permissions import Perm, may
from patients.models import EmergencyAccess


def grant_emergency_access(*, user: User, patient, reason: str, duration: timedelta | None = None):  # type: ignore[no-untyped-def]
    """Break glass: a pre-authorised clinician opens a patient outside their teams for a while.

    Recorded as its own audit event; the clinic admins are told by email after commit.
    """
    if not user.can_break_glass or not may(user, Perm.BREAK_GLASS):
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
        enqueue_on_commit("clinic.accounts.notify_admins_of_emergency_access", grant.pk)
    return grant
