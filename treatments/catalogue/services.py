"""The DMT catalogue in the database: loading protocol versions, the version a plan pins, the
clinic's catalogue settings and its default reference ranges.

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from treatments import labs
from treatments.errors import TreatmentError
from treatments.models import (
    ClinicSettings,
    ProtocolVersion,
    RangeSex,
    ReferenceRange,
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
    ensure(by, Perm.CATALOGUE_SETTINGS)
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


# --- clinic default reference ranges ---------------------------------------------------------


def add_reference_range(
    *,
    analyte: str,
    sex: str,
    age_from_years: int | None,
    age_to_years: int | None,
    low: Decimal | None,
    high: Decimal | None,
    source: str,
    note: str = "",
    valid_from: date,
    by: User,
) -> ReferenceRange:
    """A new version of one band of an analyte's clinic default range (a band is new if no
    version has its analyte, sex and ages). Versions are never edited: results keep pointing at
    the one they were graded against. Limits are in the analyte's canonical unit."""
    ensure(by, Perm.CATALOGUE_SETTINGS)
    try:
        spec = labs.get_analyte(analyte)
    except labs.UnknownAnalyte:
        raise TreatmentError("Choose a listed test.", field="analyte") from None
    if sex not in RangeSex.values:
        raise TreatmentError("Choose a sex, or any.", field="sex")
    if age_from_years is not None and age_to_years is not None and age_from_years >= age_to_years:
        raise TreatmentError("The upper age must be above the lower age.", field="age_to_years")
    if low is None and high is None:
        raise TreatmentError("Give a lower limit, an upper limit or both.", field="low")
    for field, limit in (("low", low), ("high", high)):
        if limit is None:
            continue
        try:
            labs.check_plausible(analyte, limit)
        except labs.ImplausibleValue as error:
            raise TreatmentError(str(error), field=field) from None
    if low is not None and high is not None and low > high:
        raise TreatmentError("The lower limit is above the upper limit.", field="high")
    source = source.strip()
    if not source:
        raise TreatmentError(
            "Name the source (the lab's report, a guideline or 'CK (verify)').", field="source"
        )
    with transaction.atomic():
        band = ReferenceRange.objects.select_for_update().filter(
            analyte=analyte, sex=sex, age_from_years=age_from_years, age_to_years=age_to_years
        )
        latest = band.order_by("-valid_from", "-id").first()
        if latest is not None and valid_from < latest.valid_from:
            raise TreatmentError(
                f"The current version takes effect on {latest.valid_from:%d %b %Y}; a change "
                "takes effect on that day or later.",
                field="valid_from",
            )
        row = ReferenceRange.objects.create(
            analyte=analyte,
            sex=sex,
            age_from_years=age_from_years,
            age_to_years=age_to_years,
            low=low,
            high=high,
            unit=spec.canonical_unit,
            source=source[:200],
            note=note.strip(),
            valid_from=valid_from,
            created_by=by,
        )
        audit.record(
            user=by,
            action=Action.CREATE,
            category=Category.TREATMENT,
            obj=row,
            detail=f"reference range {analyte}",
        )
    return row
