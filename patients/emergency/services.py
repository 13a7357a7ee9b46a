"""Break glass: the workflow behind emergency access to a patient outside one's care teams.

- A request needs the right (`can_break_glass`, a clinical role) and a reason in words.
- At most `BREAK_GLASS_PER_DAY` requests per user in any 24 hours, whether or not the MRN
  matched a patient: the answer is the same either way, so the form is no way to find out
  which MRNs exist.
- A grant is read-only (`Patient.objects.editable_by` leaves it out) and ends when it expires,
  when `end_emergency_access` ends it, or at once when the user loses the right
  (`EmergencyAccess.objects.live` only counts grants of users who still have it).
- The clinic admins get one email per user per hour listing that user's requests since the
  last one (`notify_admins`), claimed before sending and confirmed after, so a crash between
  the two sends it again rather than never.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from clinic.permissions import Perm, may
from patients.models import EmergencyAccess, Patient

logger = logging.getLogger("myelin.emergency")

REASON_MIN_LENGTH = 15
# A reason "in words": this many different letters or digits at least, so "aaaaaaaaaaaaaaa",
# "..............." or "asdf asdf asdf" are refused.
REASON_MIN_DISTINCT = 6
# The admins hear about one user's emergency access at most this often; requests in between
# are listed together in the next message.
NOTICE_INTERVAL = timedelta(hours=1)
# A notice claimed but never confirmed as sent (the worker died) is claimed again after this.
NOTICE_RETRY_AFTER = timedelta(minutes=10)


class EmergencyAccessRefused(Exception):
    """A request refused; `field` is the form field the message belongs next to (or None)."""

    def __init__(self, message: str, *, field: str | None = None, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.limit = limit


@dataclass(frozen=True)
class Requested:
    """What the user is told, the same whether or not the MRN matched a patient."""

    at: datetime
    until: datetime
    left_today: int


def may_break_glass(user: User) -> bool:
    """The role may (the permission table) and the person was pre-authorised."""
    return bool(user.is_active and user.can_break_glass and may(user, Perm.BREAK_GLASS))


def reason_problem(reason: str) -> str | None:
    """Why a reason is not a real one, or None. A pure rule about the text."""
    text = " ".join(reason.split())
    if len(text) < REASON_MIN_LENGTH:
        return (
            "Give the clinical reason for emergency access in a sentence "
            f"(at least {REASON_MIN_LENGTH} characters)."
        )
    if len({c for c in text.casefold() if c.isalnum()}) < REASON_MIN_DISTINCT:
        return "Give the clinical reason in words, not a repeated character."
    return None


def request_emergency_access(
    *, user: User, mrn: str, reason: str, duration: timedelta | None = None
) -> Requested:
    """Break glass: a pre-authorised clinician opens the patient with this MRN, read-only, for
    a while. Recorded and audited whether or not the MRN matched; the admins are told."""
    if not may_break_glass(user):
        raise EmergencyAccessRefused("You are not authorised for emergency access.")
    problem = reason_problem(reason)
    if problem:
        raise EmergencyAccessRefused(problem, field="reason")
    reason = reason.strip()
    limit = settings.BREAK_GLASS_PER_DAY
    with transaction.atomic():
        # One request at a time per user, so two at once cannot both pass the limit.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        now = timezone.now()
        used = EmergencyAccess.objects.filter(
            user=user, granted_at__gt=now - timedelta(days=1)
        ).count()
        if used < limit:
            grant = _record_request(user=user, mrn=mrn, reason=reason, now=now, duration=duration)
    if used >= limit:
        audit.record(
            user=user,
            action=Action.BREAK_GLASS,
            category=Category.ACCOUNT,
            detail="emergency access refused: daily limit reached",
        )
        raise EmergencyAccessRefused(
            f"You have made {used} emergency access requests in the last 24 hours, the most "
            f"allowed ({limit}). Ask the patient's care team, or a clinic admin.",
            limit=True,
        )
    return Requested(at=now, until=grant.expires_at, left_today=limit - used - 1)


def _record_request(
    *, user: User, mrn: str, reason: str, now: datetime, duration: timedelta | None
) -> EmergencyAccess:
    # Deliberately outside visible_to(): this is the one audited way around it.
    patient = Patient.objects.filter(mrn=mrn).first()
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
        detail="emergency access granted (read-only)"
        if patient
        else "emergency access requested; no patient has the MRN given",
    )
    enqueue_on_commit("patients.emergency.notify_admins")
    return grant


def end_emergency_access(*, user: User, by: User | None = None, why: str = "") -> int:
    """End every live grant of `user` now (e.g. their right to break glass was removed).

    Scoping already ignores the grants of a user without the right, so this is the record of
    it: the grants stop for good, even if the right is given back later."""
    now = timezone.now()
    with transaction.atomic():
        ended = list(
            EmergencyAccess.objects.filter(
                user=user, ended_at__isnull=True, expires_at__gt=now
            ).values_list("pk", "patient_id")
        )
        EmergencyAccess.objects.filter(pk__in=[pk for pk, _ in ended]).update(ended_at=now)
        for pk, patient_id in ended:
            audit.record(
                user=by,
                patient=patient_id,
                action=Action.UPDATE,
                category=Category.ACCOUNT,
                detail=f"emergency access {pk} ended{': ' + why if why else ''}",
            )
    return len(ended)


# ---------------------------------------------------------------------------------------------
# The clinic admins' notice
# ---------------------------------------------------------------------------------------------


def _claimable(at: datetime) -> Q:
    return Q(notified_at__isnull=True) & (
        Q(notice_claimed_at__isnull=True) | Q(notice_claimed_at__lt=at - NOTICE_RETRY_AFTER)
    )


def notify_admins(*, at: datetime | None = None) -> int:
    """Tell the clinic admins about emergency access: one email per user per hour, listing the
    user's requests since the last email. Level-triggered: run after each request and by beat,
    it sends whatever is due and nothing twice (unless a sender died between sending and
    confirming, when a repeat is better than silence). Returns the emails sent."""
    at = at or timezone.now()
    admins = list(
        User.objects.filter(role=Role.ADMIN, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not admins:
        return 0
    waiting = (
        EmergencyAccess.objects.filter(_claimable(at))
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    sent = 0
    for user_id in waiting:
        last = EmergencyAccess.objects.filter(user_id=user_id).aggregate(last=Max("notified_at"))
        if last["last"] and last["last"] > at - NOTICE_INTERVAL:
            continue  # told within the hour: these wait for the next message
        with transaction.atomic():
            batch = list(
                EmergencyAccess.objects.select_for_update(skip_locked=True)
                .filter(_claimable(at), user_id=user_id)
                .order_by("granted_at", "pk")
            )
            if not batch:
                continue  # another sender has them
            ids = [grant.pk for grant in batch]
            EmergencyAccess.objects.filter(pk__in=ids).update(notice_claimed_at=at)
        if _send_notice(user_id, batch, admins):
            EmergencyAccess.objects.filter(pk__in=ids, notice_claimed_at=at).update(
                notified_at=timezone.now()
            )
            sent += 1
        else:
            EmergencyAccess.objects.filter(pk__in=ids, notice_claimed_at=at).update(
                notice_claimed_at=None
            )
    return sent


def _send_notice(user_id: int, batch: list[EmergencyAccess], admins: list[str]) -> bool:
    """No patient name, MRN or reason in the email (reasons carry clinical detail): the admin
    follows the link to the audit report, which is behind sign-in."""
    user = User.objects.get(pk=user_id)
    lines = [
        f"- {timezone.localtime(g.granted_at):%Y-%m-%d %H:%M}: "
        + (
            f"read-only access until {timezone.localtime(g.expires_at):%H:%M}"
            if g.patient_id
            else "the MRN given matched no patient"
        )
        for g in batch
    ]
    link = f"{settings.MYELIN_SITE_URL}{reverse('audit:report')}?action=break_glass&user={user_id}"
    try:
        send_mail(
            subject=f"Myelin: emergency access used ({len(batch)})",
            message=(
                f"{user.display_name} used emergency access {len(batch)} time(s):\n\n"
                + "\n".join(lines)
                + f"\n\nReview it in the audit report: {link}\n"
            ),
            from_email=None,
            recipient_list=admins,
        )
    except Exception:
        logger.exception("Emergency access notice for user %s failed; it will be retried", user_id)
        return False
    return True
