"""The daily digest: one email a day to each clinician with alerts needing attention.

Each clinician chooses the hour (clinic time) and which non-critical kinds it counts
(treatments.models.NotificationPreference; the clinic's defaults without one). Critical alerts
are always counted. Beat runs the task hourly in UTC: a digest goes out on the first run at or
after the person's hour. The (user, day) row is claimed with the message in it before sending,
so a second run, a retry or a DST-shifted hour sends nothing more, and what was sent can be
read on the notifications page. A failed send gives the claim back, to be tried next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from treatments.alerts.outbox import site_url
from treatments.models import Alert, AlertGrade, AlertKind, DigestLog, NotificationPreference

logger = logging.getLogger("myelin.alerts")

# Kinds that are only ever raised as critical: always in the digest, never offered as a choice.
ALWAYS_CRITICAL_KINDS = frozenset({AlertKind.PHQ9_SELF_HARM})
KIND_LABELS = dict(AlertKind.choices)


def optional_kinds() -> list[tuple[str, str]]:
    """The kinds a clinician may leave out of their digest (value, label)."""
    return [(k, label) for k, label in AlertKind.choices if k not in ALWAYS_CRITICAL_KINDS]


def settings_for(preference: NotificationPreference | None) -> tuple[int, frozenset[str]]:
    """(digest hour, kinds left out) for a clinician, the clinic's defaults without a row."""
    if preference is None:
        return settings.ALERT_DIGEST_HOUR, frozenset()
    return preference.digest_hour, frozenset(preference.digest_excluded_kinds)


def counted(
    rows: dict[tuple[str, str], int], excluded: frozenset[str]
) -> dict[str, tuple[int, int]]:
    """Per kind: (alerts counted, of which critical), leaving out excluded non-critical ones."""
    per_kind: dict[str, tuple[int, int]] = {}
    for (kind, grade), n in rows.items():
        critical = grade == AlertGrade.CRITICAL
        if kind in excluded and not critical:
            continue
        total, crit = per_kind.get(kind, (0, 0))
        per_kind[kind] = (total + n, crit + (n if critical else 0))
    return per_kind


def compose(user: User, per_kind: dict[str, tuple[int, int]]) -> tuple[str, str]:
    """The digest's subject and body: counts by kind and links, no patient name or number."""
    total = sum(n for n, _ in per_kind.values())
    lines = []
    for kind, (n, crit) in sorted(per_kind.items(), key=lambda item: (-item[1][1], item[0])):
        note = f" ({crit} critical)" if crit else ""
        lines.append(f"- {KIND_LABELS.get(kind, kind)}: {n}{note}")
    plural = "s" if total != 1 else ""
    subject = f"Myelin: {total} alert{plural} need{'' if plural else 's'} your attention"
    body = (
        f"Good morning {user.first_name or user.username},\n\n"
        f"You have {total} alert{plural} needing attention in Myelin:\n"
        + "\n".join(lines)
        + f"\n\nTriage them: {site_url(reverse('alerts:inbox'))}?layout=compact\n"
        f"Change when this digest comes and what it counts: "
        f"{site_url(reverse('notifications:page'))}\n"
    )
    return subject, body


def send_daily_digests(*, at: datetime | None = None) -> int:
    """Send the digests due at `at`; returns how many were sent."""
    at = at or timezone.now()
    local = timezone.localtime(at)
    day = local.date()
    by_owner: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for row in (
        Alert.objects.needing_attention(at=at)
        .exclude(owner=None)
        .values("owner_id", "kind", "grade")
        .annotate(n=Count("id"))
    ):
        by_owner[row["owner_id"]][(row["kind"], row["grade"])] = row["n"]
    if not by_owner:
        return 0
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(pk__in=by_owner)}
    already = set(DigestLog.objects.filter(on=day, user_id__in=by_owner).values_list("user_id"))
    sent = 0
    for user in (
        User.objects.filter(pk__in=by_owner, is_active=True).exclude(email="").order_by("pk")
    ):
        hour, excluded = settings_for(preferences.get(user.pk))
        if local.hour < hour or (user.pk,) in already:
            continue
        per_kind = counted(by_owner[user.pk], excluded)
        if not per_kind:
            continue  # everything they have is of a kind they left out
        subject, body = compose(user, per_kind)
        log, created = DigestLog.objects.get_or_create(
            user=user,
            on=day,
            defaults={
                "subject": subject,
                "body": body,
                "alert_count": sum(n for n, _ in per_kind.values()),
            },
        )
        if not created:
            continue  # another run claimed it
        try:
            send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email])
        except Exception:
            logger.exception("Digest for user %s failed; it will be retried", user.pk)
            log.delete()
            continue
        sent += 1
    return sent
