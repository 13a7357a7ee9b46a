"""The DMT catalogue in the database: loading protocol versions, the version a plan pins, and
the clinic's catalogue settings.

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from treatments.errors import TreatmentError
from treatments.models import (
    ClinicSettings,
    ProtocolVersion,
)
from treatments.protocols import (
    all_protocols,
    get_protocol,
    protocol_to_dict,
)

if TYPE_CHECKING:
    from clinic.accounts.models import User


# --- catalogue -------------------------------------------------------------------------------


def load_catalogue(*, model: Any = None) -> int:
    """Store every protocol version of the code catalogue; returns how many were new.

    Idempotent: a version already stored is left as it is (a stored version is never rewritten,
    since running plans pin it). Takes the model so the data migration can pass its own.
    """
    model = model or ProtocolVersion
    created = 0
    for protocol in all_protocols():
        _, was_created = model.objects.get_or_create(
            drug_key=protocol.drug_key,
            region=protocol.label_region.value,
            version=protocol.version,
            defaults={
                "drug_name": protocol.drug_name,
                "effective_from": protocol.effective_from,
                "data": protocol_to_dict(protocol),
            },
        )
        created += was_created
    return created


def protocol_version_for(*, drug_key: str, region: str, on: date) -> ProtocolVersion:
    """The stored version in effect for the drug and region, loading it from code if missing."""
    found = ProtocolVersion.objects.in_effect(drug_key=drug_key, region=region, on=on)
    if found is not None:
        return found
    # A plan recorded with a date before the first catalogue version (history being entered)
    # follows the earliest version: it is the best knowledge the clinic has.
    earliest = (
        ProtocolVersion.objects.filter(drug_key=drug_key, region=region)
        .order_by("effective_from")
        .first()
    )
    if earliest is not None and earliest.effective_from > on:
        return earliest
    try:
        protocol = get_protocol(drug_key, region, on=on)
    except LookupError as error:
        raise TreatmentError(str(error), field="drug_key") from None
    version, _ = ProtocolVersion.objects.get_or_create(
        drug_key=protocol.drug_key,
        region=protocol.label_region.value,
        version=protocol.version,
        defaults={
            "drug_name": protocol.drug_name,
            "effective_from": protocol.effective_from,
            "data": protocol_to_dict(protocol),
        },
    )
    return version


def update_clinic_settings(
    *,
    label_region: str,
    review_interval_months: int,
    by: User,
    phq9_enabled: bool | None = None,
) -> None:
    with transaction.atomic():
        clinic = ClinicSettings.load()
        clinic.label_region = label_region
        clinic.review_interval_months = review_interval_months
        if phq9_enabled is not None:
            clinic.phq9_enabled = phq9_enabled
        clinic.full_clean()
        clinic.save()
        audit.record(
            user=by,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=clinic,
            detail="clinic catalogue settings",
        )
