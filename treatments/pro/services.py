"""Patient-reported outcomes: links a clinician sends, the date-of-birth check, and turning
answers into scored outcome measures.

The token in a link is the link's random id signed with Django's TimestampSigner (the secret key
never leaves the server). The signature stops anyone guessing or altering a link; the row in
the database decides everything else — whose link it is, what it asks, whether it has expired,
been used, withdrawn or locked — so a genuine token is still refused once its row says so.

Nothing on the public side shows or accepts anything before the date of birth matches; each
wrong date is counted on the row (the link locks after ``PRO_DOB_ATTEMPTS``) and written to the
access trail with no user (``clinic.audit.services.record`` stores ``user=None`` as anonymous).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from redis.exceptions import RedisError

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from patients.models import Patient
from treatments import outcomes, questionnaires
from treatments.alerts import services as alerts
from treatments.models import (
    AlertGrade,
    AlertKind,
    ClinicSettings,
    LinkState,
    OutcomeMeasurement,
    OutcomeSource,
    QuestionnaireLink,
)
from treatments.rehab.services import save_in_sequence

logger = logging.getLogger("myelin.pro")

LINK_SALT = "myelin.pro.link"
PROOF_SALT = "myelin.pro.date-of-birth"
# How long the proof of a matching date of birth lasts: time enough to answer, not a day.
PROOF_MAX_AGE = timedelta(hours=3)
# Wrong dates of birth from one address, over every link, before it is turned away for a while.
ADDRESS_DOB_FAILURES = 20

# The questionnaires a clinic always offers; PHQ-9 when ClinicSettings.phq9_enabled.
STANDARD_QUESTIONNAIRES = ("msis29", "mfis")


class ProRefused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class LinkUnavailable(Exception):
    """The link exists but can no longer be used (used, expired, withdrawn or locked)."""

    def __init__(self, state: LinkState) -> None:
        self.state = state
        super().__init__(state.label)


class IncompleteQuestionnaires(Exception):
    """Unanswered items: ``errors[questionnaire key] = [(item number, message), ...]``."""

    def __init__(self, errors: dict[str, list[tuple[int, str]]]) -> None:
        self.errors = errors
        super().__init__(f"unanswered items in {', '.join(errors)}")


def offered_questionnaires() -> list[questionnaires.Questionnaire]:
    keys = [*STANDARD_QUESTIONNAIRES]
    if ClinicSettings.load().phq9_enabled:
        keys.append("phq9")
    return [questionnaires.QUESTIONNAIRES[key] for key in keys]


# -- the clinician's side ------------------------------------------------------------------


def create_link(
    *,
    patient: Patient,
    keys: Sequence[str],
    by: User,
    send_email: bool = False,
    at: datetime | None = None,
) -> QuestionnaireLink:
    """A new link for ``patient`` asking ``keys``, valid for ``PRO_LINK_DAYS``; e-mailed to
    the patient's address when asked (after commit, by a task)."""
    at = at or timezone.now()
    if not by.is_clinician:
        raise ProRefused("Only clinicians send questionnaires.")
    if not Patient.objects.visible_to(by).filter(pk=patient.pk).exists():
        raise ProRefused("This patient is not in your care teams.")
    offered = [q.key for q in offered_questionnaires()]
    chosen = [key for key in offered if key in set(keys)]
    if not chosen or len(chosen) != len(set(keys)):
        raise ProRefused("Choose at least one of the questionnaires offered.")
    if send_email and not patient.email:
        raise ProRefused("This patient has no e-mail address: give them the link or QR code.")
    with transaction.atomic():
        link = QuestionnaireLink.objects.create(
            patient=patient,
            questionnaires=chosen,
            created_by=by,
            created_at=at,
            expires_at=at + timedelta(days=settings.PRO_LINK_DAYS),
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.REHAB,
            obj=link,
            detail=f"questionnaire link created ({', '.join(chosen)})",
        )
        if send_email:
            from clinic.celery import enqueue_on_commit

            enqueue_on_commit("treatments.send_questionnaire_link", link.pk)
    return link


def revoke_link(*, link: QuestionnaireLink, by: User) -> QuestionnaireLink:
    with transaction.atomic():
        link = QuestionnaireLink.objects.select_for_update().get(pk=link.pk)
        state = link.state_at(timezone.now())
        if state in (LinkState.USED, LinkState.REVOKED):
            raise ProRefused(f"This link cannot be withdrawn: {state.label.lower()}.")
        link.revoked_at = timezone.now()
        link.revoked_by = by
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            user=by,
            patient=link.patient_id,
            action=Action.UPDATE,
            category=Category.REHAB,
            obj=link,
            detail="questionnaire link withdrawn",
        )
    return link


def token_for(link: QuestionnaireLink) -> str:
    """The signed token of a link's URL (a new signature each call; any of them opens the same
    row, which alone decides whether it may still be used)."""
    return TimestampSigner(salt=LINK_SALT).sign(link.external_id.hex)


def public_path(link: QuestionnaireLink) -> str:
    """The link the patient opens: the token goes in the query string, which access logs leave
    out, never in the path."""
    return f"{reverse('pro:start')}?{urlencode({'t': token_for(link)})}"


def send_link_email(link_id: int) -> bool:
    """E-mail the link to the patient once: claimed with a compare-and-swap update before
    sending, un-claimed if the send fails (so a retry sends it, and nothing sends it twice).
    The message carries no name and no clinical detail, only the link and its expiry."""
    now = timezone.now()
    link = QuestionnaireLink.objects.select_related("patient").filter(pk=link_id).first()
    if link is None or not link.is_usable_at(now) or not link.patient.email:
        return False
    if not QuestionnaireLink.objects.filter(pk=link_id, emailed_at__isnull=True).update(
        emailed_at=now
    ):
        return False
    expires = timezone.localtime(link.expires_at)
    try:
        send_mail(
            subject="Questionnaire from your MS clinic",
            message=(
                "Your MS clinic asks you to answer a few questions before your next visit.\n\n"
                f"Open this link: {settings.MYELIN_SITE_URL}{public_path(link)}\n\n"
                "You will be asked for your date of birth first. The link works once and "
                f"until {expires:%d %B %Y}. If you did not expect this message, contact your "
                "clinic.\n"
            ),
            from_email=None,
            recipient_list=[link.patient.email],
        )
    except Exception:
        logger.exception("Sending questionnaire link %s failed; it will be retried", link_id)
        QuestionnaireLink.objects.filter(pk=link_id, emailed_at=now).update(emailed_at=None)
        return False
    return True


# -- the patient's side --------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """What a genuine token opens: its link, and whether the signature itself has aged out."""

    link: QuestionnaireLink
    signature_expired: bool

    def state_at(self, at: datetime) -> LinkState:
        state = self.link.state_at(at)
        if state == LinkState.OPEN and self.signature_expired:
            return LinkState.EXPIRED
        return state


def open_token(token: str) -> Opened | None:
    """The link a genuine token names, or None for anything forged, altered or unknown.

    The signature's own age is checked too (it can never be older than a link's lifetime), a
    second lock besides the row's ``expires_at``: a token whose signature has aged out still
    finds its row, which then reads as expired."""
    signer = TimestampSigner(salt=LINK_SALT)
    try:
        value = signer.unsign(token, max_age=timedelta(days=settings.PRO_LINK_DAYS))
        aged_out = False
    except SignatureExpired:
        value, aged_out = signer.unsign(token), True
    except BadSignature:
        return None
    if not _is_hex_uuid(value):
        return None
    link = QuestionnaireLink.objects.filter(external_id=value).first()
    return Opened(link, aged_out) if link is not None else None


def _is_hex_uuid(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def check_date_of_birth(*, link: QuestionnaireLink, date_of_birth: date) -> bool:
    """True when it matches the patient's; else count the failure (locking the link at the
    limit) and record it. Raises :class:`LinkUnavailable` for a link that cannot be used."""
    now = timezone.now()
    with transaction.atomic():
        row = QuestionnaireLink.objects.select_for_update().get(pk=link.pk)
        state = row.state_at(now)
        if state != LinkState.OPEN:
            raise LinkUnavailable(state)
        patient_dob = Patient.objects.values_list("date_of_birth", flat=True).get(pk=row.patient_id)
        if date_of_birth == patient_dob:
            return True
        attempts = row.failed_dob_attempts + 1
        locked = attempts >= settings.PRO_DOB_ATTEMPTS
        QuestionnaireLink.objects.filter(pk=row.pk).update(
            failed_dob_attempts=F("failed_dob_attempts") + 1, locked_at=now if locked else None
        )
        audit.record(
            user=None,
            patient=row.patient_id,
            action=Action.LOGIN_FAILED,
            category=Category.REHAB,
            obj=row,
            detail=f"questionnaire link: date of birth did not match "
            f"({attempts} of {settings.PRO_DOB_ATTEMPTS})" + ("; link locked" if locked else ""),
        )
    if locked:
        raise LinkUnavailable(LinkState.LOCKED)
    return False


def proof_for(link: QuestionnaireLink) -> str:
    """Carried by the questionnaire form: the date of birth matched for this link, recently."""
    return TimestampSigner(salt=PROOF_SALT).sign(link.external_id.hex)


def proof_holds(link: QuestionnaireLink, proof: str) -> bool:
    try:
        value = TimestampSigner(salt=PROOF_SALT).unsign(proof, max_age=PROOF_MAX_AGE)
    except BadSignature:
        return False
    return value == link.external_id.hex


@dataclass(frozen=True)
class Submitted:
    measurements: list[OutcomeMeasurement]
    self_harm: bool


def submit_answers(
    *,
    link: QuestionnaireLink,
    answers: Mapping[str, Mapping[int, object]],
    closing: Mapping[str, int | None] | None = None,
) -> Submitted:
    """Score each questionnaire of the link by its published rule and store it as an outcome
    measure with 'patient-reported' as the source, compared with the patient's previous value.
    The link is used by this call: a second submission, concurrent or later, is refused.

    A PHQ-9 item 9 above "not at all" raises a critical alert for the patient's care team."""
    closing = closing or {}
    now = timezone.now()
    with transaction.atomic():
        row = (
            QuestionnaireLink.objects.select_for_update(of=("self",))
            .select_related("patient")
            .get(pk=link.pk)
        )
        state = row.state_at(now)
        if state != LinkState.OPEN:
            raise LinkUnavailable(state)
        errors = {
            key: found
            for key in row.questionnaires
            if (found := questionnaires.validate_answers(key, answers.get(key, {})))
        }
        if errors:
            raise IncompleteQuestionnaires(errors)
        measured_on = timezone.localdate(now)
        measurements = []
        for key in row.questionnaires:
            fields = questionnaires.measure_fields(key, answers[key])
            measurements.append(
                save_in_sequence(
                    OutcomeMeasurement(
                        questionnaire_link=row,
                        source=OutcomeSource.PATIENT_REPORTED,
                        patient=row.patient,
                        measure=key,
                        measured_on=measured_on,
                        fields=fields,
                        score=outcomes.score(key, fields),
                    )
                )
            )
        row.used_at = now
        row.answers = {
            key: {
                "items": {str(n): int(str(v)) for n, v in answers[key].items()},
                **({"closing": closing[key]} if closing.get(key) is not None else {}),
            }
            for key in row.questionnaires
        }
        row.save(update_fields=["used_at", "answers"])
        audit.record(
            user=None,
            patient=row.patient_id,
            action=Action.CREATE,
            category=Category.REHAB,
            obj=row,
            detail=f"patient-reported questionnaires submitted ({', '.join(row.questionnaires)})",
        )
        self_harm = "phq9" in row.questionnaires and questionnaires.self_harm_reported(
            answers["phq9"]
        )
        if self_harm:
            _raise_self_harm_alert(row, next(m for m in measurements if m.measure == "phq9"))
    return Submitted(measurements, self_harm)


def _raise_self_harm_alert(link: QuestionnaireLink, phq9: OutcomeMeasurement) -> None:
    item9 = int(phq9.fields[f"item_{questionnaires.SELF_HARM_ITEM}"])
    answer = next(o.label for o in questionnaires.PHQ9.options if o.value == item9)
    alerts.raise_alerts(
        [
            alerts.AlertSpec(
                patient_id=link.patient_id,
                kind=AlertKind.PHQ9_SELF_HARM,
                grade=AlertGrade.CRITICAL,
                condition_key=f"phq9_self_harm:link:{link.pk}",
                title="PHQ-9: thoughts of self-harm reported",
                detail=(
                    f"Item 9 answered '{answer}' on a questionnaire completed "
                    f"{timezone.localtime(link.used_at):%d %b %Y %H:%M}. PHQ-9 total "
                    f"{phq9.score:.0f} ({outcomes.phq9_severity(phq9.score).lower()})."
                ),
                action="Contact the patient today to assess risk and safety, and follow the "
                "clinic's self-harm pathway.",
                source="PHQ-9 item 9 (Kroenke et al. 2001); same-day contact is clinic policy",
                raised_by_type="treatments.questionnairelink",
                raised_by_id=str(link.pk),
            )
        ]
    )


def over_rate_limit(address: str, *, bucket: str, limit: int, window: int) -> bool:
    """Count one event for ``address`` in ``bucket``; True once it passes ``limit`` within
    ``window`` seconds. Counted in the cache (Redis): if Redis is down the count is skipped
    (logged), because the per-link lock on wrong dates of birth is in PostgreSQL and holds."""
    key = f"pro-rate:{bucket}:{address}"
    try:
        if cache.add(key, 1, timeout=window):
            return limit < 1
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add and incr: a new window
        cache.add(key, 1, timeout=window)
        return False
    except RedisError:
        logger.warning("Rate limit for the questionnaire pages skipped: the cache is unreachable")
        return False


def address_locked_out(address: str) -> bool:
    """Too many wrong dates of birth from this address, over any links, in the last hour."""
    try:
        return int(cache.get(f"pro-rate:dob:{address}") or 0) >= ADDRESS_DOB_FAILURES
    except RedisError:
        return False


def count_address_failure(address: str) -> None:
    over_rate_limit(address, bucket="dob", limit=ADDRESS_DOB_FAILURES, window=3600)
