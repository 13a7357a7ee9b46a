"""Correcting a dose, infusion or course: the monitoring anchored on doses is materialised
again from the standing ones (`resync_plan`), and a natalizumab plan's PML category
is reassessed (it counts infusions). Dose gates read standing doses on every view.

The first dose is the plan's start: it is corrected with the plan (its start date), not here.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import Category
from patients.corrections import engine
from treatments.dosing import DoseEntry
from treatments.errors import TreatmentError, as_validation_error
from treatments.models import DmtAdministration
from treatments.plans.schedule import resync_plan
from treatments.plans.services import create_administration
from treatments.safety.services import is_natalizumab, reassess_pml_risk

FIRST_DOSE = (
    "This is the plan's first dose, the day the plan started: it cannot be corrected on its own."
)


def refusal(record: DmtAdministration, step: str) -> str | None:
    if record.plan.started_on is not None and record.given_on == record.plan.started_on:
        return FIRST_DOSE
    return None


def _follow(given: DmtAdministration, why: str) -> None:
    plan = given.plan
    resync_plan(plan=plan, on=timezone.localdate())
    if is_natalizumab(plan):
        reassess_pml_risk(plan=plan, reason=f"Infusion of {given.given_on:%d %b %Y} {why}")


def mark_dose_in_error(*, record: DmtAdministration, reason: str, by: User) -> DmtAdministration:
    if refusal(record, "error"):
        raise as_validation_error(TreatmentError(FIRST_DOSE))
    with transaction.atomic():
        marked = engine.mark_entered_in_error(
            record=record,
            reason=reason,
            by=by,
            patient_id=record.plan.patient_id,
            category=Category.TREATMENT,
        )
        _follow(record, "entered in error")
    return marked


def amend_dose(
    *,
    given: DmtAdministration,
    kind: str,
    given_on: date,
    note: str,
    reason: str,
    by: User,
    dose: DoseEntry | None = None,
) -> DmtAdministration:
    if refusal(given, "amend"):
        raise as_validation_error(TreatmentError(FIRST_DOSE))

    def build(original: DmtAdministration) -> DmtAdministration:
        if given_on == original.plan.started_on:
            raise as_validation_error(
                TreatmentError("That is the first dose's day.", field="given_on")
            )
        try:
            return create_administration(
                plan=original.plan,
                kind=kind,
                given_on=given_on,
                note=note,
                dose=dose,
                by=by,
                amends=original,
            )
        except TreatmentError as error:
            raise as_validation_error(error) from None

    with transaction.atomic():
        replacement = engine.amend(
            record=given,
            reason=reason,
            by=by,
            patient_id=given.plan.patient_id,
            category=Category.TREATMENT,
            build=build,
        )
        _follow(replacement, "amended")
    return replacement


def describe(given: DmtAdministration) -> str:
    note = f" ({given.note})" if given.note else ""
    return (
        f"{given.get_kind_display()} of {given.plan.drug_name} on {given.given_on:%d %b %Y}{note}"
    )
