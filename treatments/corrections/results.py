"""Correcting a result: what it closed and what it raised follow at once.

* The monitoring item the result closed is released: for an amendment the corrected result
  closes it again (late or in window by its corrected date); for an error another standing
  result that answers it (same test, in its window, closing nothing else) closes it, or it is
  open again, and the overdue and due-soon sweeps are queued so its alert comes back now.
* Alerts the result raised (abnormal values, failed dose gates, Hy's law) are resolved with a
  note saying why; an amended result is evaluated again, which raises what still holds.
* A JCV result: the natalizumab PML category is reassessed without it (the amendment's
  evaluation reassesses it too).
* Dose gates and trends read standing results only, so they follow on the next read.

Deliberately not undone: plan conditions a positive JCV result switched on (a clinician changes
them on the plan, where they are shown), and alerts an erroneous normal result had resolved (a
later evaluation cannot tell them from alerts resolved by a real result; the notes name it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db import transaction

from clinic import limits
from clinic.accounts.models import User
from clinic.audit.models import Category
from clinic.celery import enqueue_on_commit
from patients.corrections import engine
from treatments.alerts.services import resolve_raised_by
from treatments.errors import TreatmentError, as_validation_error
from treatments.models import ItemStatus, MonitoringItem, RangeSource, Result
from treatments.monitoring.services import EnteredValue, create_result
from treatments.protocols import analytes_of, get_investigation
from treatments.safety.rules import JCV, RESULT_TYPE
from treatments.safety.services import reassess_pml_for_patient


def _investigations_answering(item: MonitoringItem) -> set[str]:
    """The tests whose result answers this item: its own, or a panel containing it."""
    from treatments.protocols import INVESTIGATIONS

    keys = {item.investigation}
    for key in INVESTIGATIONS:
        try:
            if item.investigation in analytes_of(key):
                keys.add(key)
        except LookupError:
            continue
    return keys


def release_item(result: Result, *, rematch: bool) -> MonitoringItem | None:
    """Unlink the item `result` closed (if any). With `rematch`, close it with another standing
    result that answers it; otherwise (or if there is none) it is open again."""
    item = MonitoringItem.objects.select_for_update().filter(result=result).first()
    if item is None:
        return None
    item.result = None
    item.completed_on = None
    item.settled_by = None
    item.status = ItemStatus.BOOKED if item.booked_on else ItemStatus.SCHEDULED
    other = None
    if rematch:
        other = (
            Result.objects.standing()
            .filter(
                patient_id=item.patient_id,
                investigation__in=_investigations_answering(item),
                taken_on__gte=item.window_opens_on,
                taken_on__lte=item.window_closes_on,
                closed_item__isnull=True,
            )
            .exclude(pk=result.pk)
            .order_by("taken_on", "id")
            .first()
        )
    if other is not None:
        item.status = item.completion_status(other.taken_on)
        item.completed_on = other.taken_on
        item.result = other
        item.settled_by = other.recorded_by
    item.save(update_fields=["result", "completed_on", "settled_by", "status", "updated_at"])
    if item.is_open:
        # Overdue or due soon again: told now, not at the next quarter-hour sweep.
        enqueue_on_commit("treatments.sweep_overdue")
        enqueue_on_commit("treatments.sweep_due_soon")
    return item


def _resolve_raised(result: Result, why: str) -> int:
    return resolve_raised_by(
        raised_by_type=RESULT_TYPE,
        raised_by_ids=[result.pk],
        note=f"Closed automatically: the result of {result.taken_on:%d %b %Y} was {why}.",
    )


def mark_result_in_error(*, record: Result, reason: str, by: User) -> Result:
    with transaction.atomic():
        marked = engine.mark_entered_in_error(
            record=record,
            reason=reason,
            by=by,
            patient_id=record.patient_id,
            category=Category.MONITORING,
        )
        release_item(marked, rematch=True)
        _resolve_raised(marked, "entered in error")
        if marked.investigation == JCV:
            reassess_pml_for_patient(
                patient_id=marked.patient_id,
                reason=f"JCV result of {marked.taken_on:%d %b %Y} entered in error",
            )
    return marked


def amend_result(
    *,
    result: Result,
    taken_on: date,
    values: Sequence[EnteredValue] = (),
    qualitative: str = "",
    genotype: str = "",
    index_value: Decimal | None = None,
    macular_oedema: bool | None = None,
    mri_study_ref: str = "",
    lab: str = "",
    note: str = "",
    reason: str,
    by: User,
) -> Result:
    """Replace a result (same test) with corrected values; it is checked (units, plausible
    values) like a new one, closes the item the original closed and is evaluated again."""

    def build(original: Result) -> Result:
        item = release_item(original, rematch=False)
        _resolve_raised(original, "amended")
        try:
            return create_result(
                patient=original.patient,
                investigation=original.investigation,
                taken_on=taken_on,
                by=by,
                item=item,
                values=values,
                qualitative=qualitative,
                genotype=genotype,
                index_value=index_value,
                macular_oedema=macular_oedema,
                mri_study_ref=mri_study_ref,
                lab=lab,
                note=note,
                amends=original,
            )
        except TreatmentError as error:
            raise as_validation_error(error) from None

    return engine.amend(
        record=result,
        reason=reason,
        by=by,
        patient_id=result.patient_id,
        category=Category.MONITORING,
        build=build,
    )


def amend_from_laboratory(
    *,
    result: Result,
    values: Sequence[EnteredValue],
    qualitative: str,
    index_value: Decimal | None,
    note: str,
    reason: str,
    by: User,
) -> Result:
    """The laboratory corrected a result it sent (HL7 OBX-11 = C), or finalised a preliminary
    one: an amendment like any other, on the laboratory's authority (`by` is the import's
    account; who may feed the import is its own check). The values the laboratory names
    replace the original's, the others are carried over as they were (with the lab's range, or
    ranged against the clinic default again); the original stays, struck through, and what it
    closed and raised follows as for a clinician's amendment."""

    def build(original: Result) -> Result:
        named = {v.analyte for v in values}
        kept = [
            EnteredValue(
                analyte=row.analyte,
                value=row.value,
                unit=row.unit,  # canonical: converts to itself
                low=row.lln if row.range_source == RangeSource.LAB else None,
                high=row.uln if row.range_source == RangeSource.LAB else None,
            )
            for row in original.values.all()
            if row.analyte not in named
        ]
        item = release_item(original, rematch=False)
        _resolve_raised(original, "corrected by the laboratory")
        return create_result(
            patient=original.patient,
            investigation=original.investigation,
            taken_on=original.taken_on,
            by=by,
            item=item,
            values=[*kept, *values],
            qualitative=qualitative or original.qualitative,
            genotype=original.genotype,
            index_value=index_value if index_value is not None else original.index_value,
            macular_oedema=original.macular_oedema,
            mri_study_ref=original.mri_study_ref,
            lab=original.lab,
            note="\n".join(part for part in (original.note, note) if part)[: limits.NOTE],
            amends=original,
        )

    return engine.amend(
        record=result,
        reason=reason,
        by=by,
        patient_id=result.patient_id,
        category=Category.MONITORING,
        build=build,
        by_source=True,
    )


def describe(result: Result) -> str:
    try:
        name = get_investigation(result.investigation).name
    except LookupError:
        name = result.investigation
    return f"{name} of {result.taken_on:%d %b %Y}: {result.summary()}"
