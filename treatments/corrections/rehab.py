"""Correcting a rehab session. Its outcome measurements belong to the session: entered in
error, they stop counting; amended, they move to the corrected session (dated by it). Either
way every later measurement of the same measures is compared again with the one that now
precedes it, so the flags (§8.2) and the trends stay true. Sessions done against a therapy plan
are counted from standing sessions on every view.

The therapist of the amended session stays the one who held it; who amended it is on the
original (`corrected_by`). A measure itself is corrected by marking the session entered in error
and logging it again."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import Category
from patients.corrections import engine
from patients.models import Referral
from treatments.errors import as_validation_error
from treatments.models import OutcomeMeasurement, RehabSession
from treatments.rehab.services import RehabRefused, check_session, recompare_measures


def _measures_of(session: RehabSession) -> list[str]:
    return list(session.measurements.values_list("measure", flat=True))


def mark_session_in_error(*, record: RehabSession, reason: str, by: User) -> RehabSession:
    with transaction.atomic():
        marked = engine.mark_entered_in_error(
            record=record,
            reason=reason,
            by=by,
            patient_id=record.patient_id,
            category=Category.REHAB,
        )
        recompare_measures(patient=record.patient, measures=_measures_of(marked))
    return marked


def amend_session(
    *,
    session: RehabSession,
    held_on: date,
    duration_minutes: int,
    discipline: str,
    setting: str,
    interventions: list[str],
    goals: str,
    progress: str,
    notes: str,
    referral: Referral | None,
    reason: str,
    by: User,
) -> RehabSession:
    def build(original: RehabSession) -> RehabSession:
        try:
            check_session(patient=original.patient, held_on=held_on, referral=referral)
        except RehabRefused as refused:
            raise as_validation_error(refused) from None
        replacement = RehabSession.objects.create(
            patient=original.patient,
            therapist=original.therapist,
            held_on=held_on,
            duration_minutes=duration_minutes,
            discipline=discipline,
            setting=setting,
            interventions=list(interventions),
            goals=goals.strip(),
            progress=progress.strip(),
            notes=notes.strip(),
            referral=referral,
            amends=original,
        )
        OutcomeMeasurement.objects.filter(session=original).update(
            session=replacement, measured_on=held_on
        )
        return replacement

    with transaction.atomic():
        replacement = engine.amend(
            record=session,
            reason=reason,
            by=by,
            patient_id=session.patient_id,
            category=Category.REHAB,
            build=build,
        )
        recompare_measures(patient=session.patient, measures=_measures_of(replacement))
    return replacement


def describe(session: RehabSession) -> str:
    return (
        f"{session.get_discipline_display()} session on {session.held_on:%d %b %Y}, "
        f"{session.duration_minutes} min, with {session.therapist.display_name}"
    )
