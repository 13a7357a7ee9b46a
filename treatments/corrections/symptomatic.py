"""Correcting a symptomatic or relapse treatment. Nothing is derived from it and stored: its
interaction notes are worked out on every view, from the standing treatments."""

from __future__ import annotations

from datetime import date

from clinic.accounts.models import User
from clinic.audit.models import Category
from patients.corrections import engine
from treatments.errors import TreatmentError, as_validation_error
from treatments.models import SymptomaticTreatment
from treatments.symptomatic.services import create_symptomatic_treatment


def mark_treatment_in_error(
    *, record: SymptomaticTreatment, reason: str, by: User
) -> SymptomaticTreatment:
    return engine.mark_entered_in_error(
        record=record,
        reason=reason,
        by=by,
        patient_id=record.patient_id,
        category=Category.TREATMENT,
    )


def amend_treatment(
    *,
    treatment: SymptomaticTreatment,
    kind: str,
    drug: str,
    indication: str,
    dose: str,
    started_on: date,
    stopped_on: date | None,
    note: str,
    reason: str,
    by: User,
) -> SymptomaticTreatment:
    def build(original: SymptomaticTreatment) -> SymptomaticTreatment:
        try:
            return create_symptomatic_treatment(
                patient=original.patient,
                kind=kind,
                drug=drug,
                indication=indication,
                dose=dose,
                started_on=started_on,
                stopped_on=stopped_on,
                note=note,
                by=by,
                amends=original,
            )
        except TreatmentError as error:
            raise as_validation_error(error) from None

    return engine.amend(
        record=treatment,
        reason=reason,
        by=by,
        patient_id=treatment.patient_id,
        category=Category.TREATMENT,
        build=build,
    )


def describe(t: SymptomaticTreatment) -> str:
    until = f" to {t.stopped_on:%d %b %Y}" if t.stopped_on else ", ongoing"
    dose = f" {t.dose}" if t.dose else ""
    return (
        f"{t.drug}{dose} for {t.get_indication_display().lower()}, "
        f"from {t.started_on:%d %b %Y}{until}"
    )
