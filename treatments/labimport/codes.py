"""The clinic's table of laboratory codes, kept by the clinic admin (audited)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from treatments.errors import TreatmentError
from treatments.labimport.matching import VALID_TARGETS
from treatments.models import LabCodeMapping


def save_mapping(
    *,
    by: User,
    code: str,
    target: str,
    sending_facility: str = "",
    coding_system: str = "",
    note: str = "",
    mapping: LabCodeMapping | None = None,
) -> LabCodeMapping:
    if target not in VALID_TARGETS:
        raise TreatmentError("Choose a listed test.", field="target")
    if not code.strip():
        raise TreatmentError("Give the laboratory's code.", field="code")
    row = mapping or LabCodeMapping()
    row.code = code.strip().upper()
    row.coding_system = coding_system.strip().upper()
    row.sending_facility = sending_facility.strip().upper()
    row.target = target
    row.note = note.strip()
    row.updated_by = by
    try:
        with transaction.atomic():
            row.save()
            audit.record(
                user=by,
                action=Action.UPDATE if mapping else Action.CREATE,
                category=Category.MONITORING,
                obj=row,
                detail=f"lab code {row.code} mapped to {target or 'not tracked'}",
            )
    except IntegrityError:
        raise TreatmentError(
            "This code is already in the table for this laboratory and coding system.",
            field="code",
        ) from None
    return row


def delete_mapping(*, mapping: LabCodeMapping, by: User) -> None:
    with transaction.atomic():
        audit.record(
            user=by,
            action=Action.DELETE,
            category=Category.MONITORING,
            obj=mapping,
            detail=f"lab code {mapping.code} removed",
        )
        mapping.delete()
