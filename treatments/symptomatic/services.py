"""Symptomatic and relapse treatments recorded on the patient.

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.models import (
    SymptomaticTreatment,
)

if TYPE_CHECKING:
    from clinic.accounts.models import User


# --- symptomatic and relapse treatments --------------------------------------------------------


def record_symptomatic_treatment(
    *,
    patient: Patient,
    kind: str,
    drug: str,
    indication: str,
    dose: str,
    started_on: date,
    stopped_on: date | None,
    note: str,
    by: User,
) -> SymptomaticTreatment:
    ensure(by, Perm.SYMPTOMATIC_RECORD)
    with transaction.atomic():
        treatment = create_symptomatic_treatment(
            patient=patient,
            kind=kind,
            drug=drug,
            indication=indication,
            dose=dose,
            started_on=started_on,
            stopped_on=stopped_on,
            note=note,
            by=by,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.TREATMENT,
            obj=treatment,
            detail="symptomatic treatment recorded",
        )
    return treatment


def create_symptomatic_treatment(
    *,
    patient: Patient,
    kind: str,
    drug: str,
    indication: str,
    dose: str,
    started_on: date,
    stopped_on: date | None,
    note: str,
    by: User,
    amends: SymptomaticTreatment | None = None,
) -> SymptomaticTreatment:
    """Validate and save (shared by recording and amending; no permission check, no audit)."""
    if started_on > timezone.localdate():
        raise TreatmentError("The start date cannot be in the future.", field="started_on")
    if stopped_on is not None and stopped_on < started_on:
        raise TreatmentError("The stop date cannot be before the start.", field="stopped_on")
    if stopped_on is not None and stopped_on > timezone.localdate():
        raise TreatmentError("The stop date cannot be in the future.", field="stopped_on")
    return SymptomaticTreatment.objects.create(
        patient=patient,
        kind=kind,
        drug=drug.strip(),
        indication=indication,
        dose=dose,
        started_on=started_on,
        stopped_on=stopped_on,
        note=note,
        recorded_by=by,
        amends=amends,
    )


def stop_symptomatic_treatment(
    *, treatment: SymptomaticTreatment, stopped_on: date, by: User
) -> SymptomaticTreatment:
    ensure(by, Perm.SYMPTOMATIC_STOP)
    if not treatment.is_standing:
        raise TreatmentError(
            f"This record was {treatment.get_correction_display().lower()}: stop the standing one."
        )
    if stopped_on < treatment.started_on:
        raise TreatmentError("The stop date cannot be before the start.", field="stopped_on")
    if stopped_on > timezone.localdate():
        raise TreatmentError("The stop date cannot be in the future.", field="stopped_on")
    with transaction.atomic():
        treatment.stopped_on = stopped_on
        treatment.save(update_fields=["stopped_on"])
        audit.record(
            user=by,
            patient=treatment.patient_id,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=treatment,
            detail="symptomatic treatment stopped",
        )
    return treatment
