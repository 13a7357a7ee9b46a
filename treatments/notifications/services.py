"""A clinician's notifications: what Myelin emailed them (critical alerts, escalations, daily
digests, each kept as sent) and their digest preferences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from treatments.alerts.digest import optional_kinds, settings_for
from treatments.models import (
    Alert,
    AlertEmail,
    DigestLog,
    EmailState,
    NotificationPreference,
)

# How many of each the page shows: the latest ones.
EMAILS_SHOWN = 30
DIGESTS_SHOWN = 14
ESCALATED_SHOWN = 10


@dataclass(frozen=True)
class Sent:
    emails: list[AlertEmail]
    digests: list[DigestLog]
    escalated: list[Alert]  # the user's own alerts that went to their lead unacknowledged


def sent_to(user: User) -> Sent:
    """The latest emails and digests sent to `user`, and their alerts that were escalated
    (three statements, whatever the numbers)."""
    emails = list(
        AlertEmail.objects.filter(recipient=user)
        .exclude(state=EmailState.CANCELLED)
        .select_related("alert")
        .only(
            "alert_id",
            "alert__kind",
            "alert__grade",
            "alert__patient_id",
            "purpose",
            "state",
            "subject",
            "body",
            "created_at",
            "sent_at",
        )
        .order_by("-created_at", "-pk")[:EMAILS_SHOWN]
    )
    digests = list(DigestLog.objects.filter(user=user).order_by("-on")[:DIGESTS_SHOWN])
    escalated = list(
        Alert.objects.visible_to(user)
        .filter(owner=user, escalated_at__isnull=False)
        .select_related("escalated_to")
        .only(
            "patient_id",
            "kind",
            "grade",
            "title",
            "status",
            "escalated_at",
            "escalated_to__first_name",
            "escalated_to__last_name",
            "escalated_to__username",
        )
        .order_by("-escalated_at")[:ESCALATED_SHOWN]
    )
    return Sent(emails=emails, digests=digests, escalated=escalated)


def preference_initial(user: User) -> dict[str, Any]:
    preference = NotificationPreference.objects.filter(user=user).first()
    hour, excluded = settings_for(preference)
    return {
        "digest_hour": hour,
        "included_kinds": [kind for kind, _ in optional_kinds() if kind not in excluded],
    }


def save_preference(*, user: User, digest_hour: int, included_kinds: list[str]) -> None:
    """Store what the digest counts as the kinds left out, so a kind added later is counted."""
    ensure(user, Perm.NOTIFICATIONS_VIEW)
    if not 0 <= digest_hour <= 23:
        raise ValueError("The digest hour is 0 to 23.")
    excluded = sorted(kind for kind, _ in optional_kinds() if kind not in set(included_kinds))
    with transaction.atomic():
        NotificationPreference.objects.update_or_create(
            user=user,
            defaults={"digest_hour": digest_hour, "digest_excluded_kinds": excluded},
        )
        audit.record(
            user=user,
            patient=None,
            action=Action.UPDATE,
            category=Category.ACCOUNT,
            detail=f"digest at {digest_hour:02d}:00, {len(excluded)} kind(s) left out",
        )
