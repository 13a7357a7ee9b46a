"""The DMT catalogue in the database: loading protocol versions, the version a plan pins, the
clinic's catalogue settings and its default reference ranges.

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import BigIntegerField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from treatments import labs
from treatments.alerts import services as alerts
from treatments.errors import TreatmentError
from treatments.models import (
    Alert,
    AlertKind,
    ClinicSettings,
    ItemStatus,
    MonitoringItem,
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


class Unset:
    """The caller left a setting out (None is a value: "no go-live date")."""


UNSET = Unset()


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
        # Not stored yet either: the earliest version in the code, for a history older than it.
        in_code = [
            p for p in all_protocols() if p.drug_key == drug_key and p.label_region.value == region
        ]
        first = min(in_code, key=lambda p: p.effective_from, default=None)
        if first is None or first.effective_from <= on:
            raise TreatmentError(str(error), field="drug_key") from None
        protocol = first
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


# A go-live date is the start of tracking in Myelin: not before the oldest history a record may
# hold, and not so far ahead that live duties would be hidden for more than a year.
EARLIEST_GO_LIVE = date(1900, 1, 1)
GO_LIVE_AHEAD_DAYS = 366
ITEM_TYPE = "treatments.monitoringitem"


def update_clinic_settings(
    *,
    label_region: str,
    review_interval_months: int,
    by: User,
    phq9_enabled: bool | None = None,
    go_live_on: date | Unset | None = UNSET,
    relapse_review_hours: int | None = None,
) -> None:
    """Save the clinic's settings. A changed go-live date re-marks every monitoring item that is
    not booked, done or waived: due before it "before go-live" (its alerts close), due on or
    after it scheduled again. Left out, the go-live date is kept."""
    ensure(by, Perm.CATALOGUE_SETTINGS)
    if not isinstance(go_live_on, Unset):
        _check_go_live(go_live_on)
    with transaction.atomic():
        clinic = ClinicSettings.objects.select_for_update().get(pk=ClinicSettings.load().pk)
        clinic.label_region = label_region
        clinic.review_interval_months = review_interval_months
        if phq9_enabled is not None:
            clinic.phq9_enabled = phq9_enabled
        if relapse_review_hours is not None:
            clinic.relapse_review_hours = relapse_review_hours
        moved = not isinstance(go_live_on, Unset) and go_live_on != clinic.go_live_on
        if not isinstance(go_live_on, Unset):
            clinic.go_live_on = go_live_on
        clinic.full_clean()
        clinic.save()
        detail = "clinic catalogue settings"
        if moved:
            marked, unmarked = mark_before_go_live(go_live_on=clinic.go_live_on)
            when = f"{clinic.go_live_on:%Y-%m-%d}" if clinic.go_live_on else "none"
            detail += f"; go-live date {when} ({marked} items before go-live, {unmarked} live)"
        audit.record(
            user=by,
            action=Action.UPDATE,
            category=Category.TREATMENT,
            obj=clinic,
            detail=detail,
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


def _check_go_live(go_live_on: date | None) -> None:
    if go_live_on is None:
        return
    if go_live_on < EARLIEST_GO_LIVE:
        raise TreatmentError("The go-live date cannot be before 1900.", field="go_live_on")
    latest = timezone.localdate() + timedelta(days=GO_LIVE_AHEAD_DAYS)
    if go_live_on > latest:
        raise TreatmentError(
            f"The go-live date cannot be more than a year ahead (after {latest:%d %b %Y}).",
            field="go_live_on",
        )


def mark_before_go_live(*, go_live_on: date | None) -> tuple[int, int]:
    """Set-based: scheduled items due before `go_live_on` become "before go-live" (their
    overdue episode and alerts end), and "before go-live" items due on or after it (or every
    one, when there is no go-live date any more) are scheduled again. Booked, done, waived and
    cancelled rows are left alone. Returns (marked, unmarked)."""
    now = timezone.now()
    marked = 0
    if go_live_on is not None:
        marked = MonitoringItem.objects.filter(
            status=ItemStatus.SCHEDULED, due_on__lt=go_live_on
        ).update(status=ItemStatus.BEFORE_GO_LIVE, overdue_since=None, updated_at=now)
    live = MonitoringItem.objects.filter(status=ItemStatus.BEFORE_GO_LIVE)
    if go_live_on is not None:
        live = live.filter(due_on__gte=go_live_on)
    unmarked = live.update(status=ItemStatus.SCHEDULED, updated_at=now)
    if marked:
        item = MonitoringItem.objects.filter(
            pk=Cast(OuterRef("raised_by_id"), BigIntegerField()),
            status=ItemStatus.BEFORE_GO_LIVE,
        )
        alerts.auto_resolve(
            queryset=Alert.objects.filter(
                raised_by_type=ITEM_TYPE,
                kind__in=[AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON],
            ).filter(Exists(item)),
            note="Closed automatically: due before the clinic's go-live date.",
        )
    return marked, unmarked
