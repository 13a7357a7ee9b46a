"""Working the monitoring items: booking, waiving, and recording and reviewing results (which
close their item and are then evaluated by treatments.safety).

Every function here is keyword-only, runs in one transaction and writes its audit entry.
Bad input is refused with `TreatmentError`, which names the form field it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient
from treatments import grading, labs
from treatments.errors import TreatmentError
from treatments.models import (
    DmtPlan,
    Flag,
    ItemStatus,
    MonitoringItem,
    PlanStatus,
    QualitativeValue,
    RangeSource,
    ReferenceRange,
    Result,
    ResultValue,
)
from treatments.models.results import flag_for
from treatments.monitoring import evaluation_queue
from treatments.plans.schedule import close_item_alerts, resync_plan
from treatments.protocols import (
    InvestigationKind,
    analytes_of,
    get_investigation,
)

if TYPE_CHECKING:
    from clinic.accounts.models import User


# --- working the items -----------------------------------------------------------------------


def book_item(*, item: MonitoringItem, booked_on: date, by: User) -> MonitoringItem:
    ensure(by, Perm.ITEM_BOOK)
    if not item.is_open:
        raise TreatmentError(
            f"This item is {item.get_status_display().lower()}; it cannot be booked."
        )
    if booked_on < timezone.localdate():
        raise TreatmentError("Book a date from today onwards.", field="booked_on")
    with transaction.atomic():
        item.status = ItemStatus.BOOKED
        item.booked_on = booked_on
        item.save(update_fields=["status", "booked_on", "updated_at"])
        audit.record(
            user=by,
            patient=item.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="booked",
        )
    return item


def waive_item(*, item: MonitoringItem, reason: str, by: User) -> MonitoringItem:
    ensure(by, Perm.ITEM_WAIVE)
    if not item.is_open:
        raise TreatmentError(
            f"This item is {item.get_status_display().lower()}; it cannot be waived."
        )
    if not reason.strip():
        raise TreatmentError("Give a reason for waiving this check.", field="reason")
    with transaction.atomic():
        item.status = ItemStatus.WAIVED
        item.waived_reason = reason.strip()
        item.settled_by = by
        item.save(update_fields=["status", "waived_reason", "settled_by", "updated_at"])
        close_item_alerts([item.pk], "Closed automatically: check waived.")
        audit.record(
            user=by,
            patient=item.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=item,
            detail="waived",
        )
    return item


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnteredValue:
    analyte: str
    value: Decimal
    unit: str
    low: Decimal | None = None
    high: Decimal | None = None


def result_analytes(investigation: str) -> tuple[str, ...]:
    """The numeric analytes a result for this investigation is entered as (may be none)."""
    inv = get_investigation(investigation)
    if inv.kind == InvestigationKind.NUMERIC:
        return (investigation,)
    return tuple(a for a in inv.components if a in labs.ANALYTES)


def _value_row(entered: EnteredValue, *, patient: Patient, taken_on: date) -> ResultValue:
    """The value in the canonical unit, flagged and graded against the lab's range or, when the
    lab gave none, the clinic default for the patient's sex and age on the sample's day."""
    analyte = entered.analyte
    try:
        value = labs.convert(analyte, entered.value, entered.unit)
    except labs.UnitError as error:
        raise TreatmentError(str(error), field=f"{analyte}_unit") from None
    try:
        labs.check_plausible(analyte, value)
    except labs.ImplausibleValue as error:
        raise TreatmentError(str(error), field=f"{analyte}_value") from None
    try:
        reference = labs.convert_range(
            analyte, low=entered.low, high=entered.high, unit=entered.unit
        )
    except ValueError as error:
        raise TreatmentError(str(error), field=f"{analyte}_low") from None
    low, high = reference.low, reference.high
    source, default = RangeSource.LAB, None
    if low is None and high is None:
        default = ReferenceRange.objects.for_patient(
            analyte, sex=patient.sex, age=patient.age_on(taken_on), on=taken_on
        )
        source = RangeSource.CLINIC_DEFAULT if default is not None else RangeSource.NONE
        if default is not None:
            low, high = default.low, default.high
    ratio = None
    if high is not None and high > 0:
        ratio = round(grading.times_uln(value, high), 3)
    row = ResultValue(
        analyte=analyte,
        value=value,
        unit=labs.get_analyte(analyte).canonical_unit,
        entered_value=str(entered.value),
        entered_unit=entered.unit,
        lln=low,
        uln=high,
        flag=flag_for(value, low, high),
        times_uln=ratio,
        range_source=source,
        reference_range=default,
    )
    row.ctcae_grade = row.graded_ctcae()
    return row


_ABNORMAL_QUALITATIVE = {QualitativeValue.POSITIVE, QualitativeValue.ABNORMAL}


def _is_abnormal(
    rows: Sequence[ResultValue], qualitative: str, macular_oedema: bool | None
) -> bool:
    return (
        any(r.flag in (Flag.LOW, Flag.HIGH) for r in rows)
        or qualitative in _ABNORMAL_QUALITATIVE
        or macular_oedema is True
    )


def record_result(
    *,
    patient: Patient,
    investigation: str,
    taken_on: date,
    by: User,
    item: MonitoringItem | None = None,
    values: Sequence[EnteredValue] = (),
    qualitative: str = "",
    genotype: str = "",
    index_value: Decimal | None = None,
    macular_oedema: bool | None = None,
    mri_study_ref: str = "",
    lab: str = "",
    note: str = "",
) -> Result:
    """Store a result in canonical units with the lab's range (else the clinic default, and
    which one was used) and close the item it answers.

    A typed result needs the `result_record` capability. A result the laboratory sent (the HL7
    and CSV import) goes through `create_result` on the import's authority: who may upload or
    match lab messages is the import's own check (`lab_upload`, `lab_review`), and the import
    audits each result with its message.

    Without an item, the result closes the earliest open item of the same investigation (or of
    a component it contains) whose window holds the date: an outside lab's ALT still counts.
    A JCV result is judged by the PML risk engine when the result is evaluated (after commit);
    the category it sets switches the natalizumab plan's surveillance MRI on.
    """
    ensure(by, Perm.RESULT_RECORD)
    with transaction.atomic():
        result = create_result(
            patient=patient,
            investigation=investigation,
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
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.MONITORING,
            obj=result,
            detail=f"result {result.investigation}",
        )
    return result


def create_result(
    *,
    patient: Patient,
    investigation: str,
    taken_on: date,
    by: User,
    item: MonitoringItem | None = None,
    values: Sequence[EnteredValue] = (),
    qualitative: str = "",
    genotype: str = "",
    index_value: Decimal | None = None,
    macular_oedema: bool | None = None,
    mri_study_ref: str = "",
    lab: str = "",
    note: str = "",
    amends: Result | None = None,
    check_plan_triggers: bool = True,
) -> Result:
    """Validate and save a result, close its item and queue its evaluation (the shared part of
    recording a result and of amending one; no permission check, no audit).

    `check_plan_triggers=False` is for a caller that knows no plan of the patient starts on or
    after the result's date, so the result cannot be a plan's baseline (the lab import reads
    that once for all its messages)."""
    if taken_on > timezone.localdate():
        raise TreatmentError("The result date cannot be in the future.", field="taken_on")
    if item is not None:
        if item.patient_id != patient.pk:
            raise TreatmentError("This monitoring item belongs to another patient.")
        if not item.can_take_result():
            raise TreatmentError(
                f"This item is {item.get_status_display().lower()}; record the result without "
                "an item instead.",
                field="item",
            )
        investigation = item.investigation
    rows = [_value_row(v, patient=patient, taken_on=taken_on) for v in values]
    _check_genotype(investigation, genotype)
    has_content = (
        rows or qualitative or genotype or macular_oedema is not None or mri_study_ref or note
    )
    if not has_content:
        raise TreatmentError("Enter at least one value or finding.")
    if qualitative and qualitative not in QualitativeValue.values:
        raise TreatmentError("Choose a listed finding.", field="qualitative")
    abnormal = _is_abnormal(rows, qualitative, macular_oedema)
    # No savepoint of its own: every caller runs it inside its transaction and lets a failure
    # roll the whole of it back (recording, amending, importing a lab message).
    with transaction.atomic(savepoint=False):
        result = Result.objects.create(
            patient=patient,
            investigation=investigation,
            taken_on=taken_on,
            lab=lab,
            qualitative=qualitative,
            genotype=genotype,
            index_value=index_value,
            macular_oedema=macular_oedema,
            mri_study_ref=mri_study_ref,
            note=note,
            is_abnormal=abnormal,
            recorded_by=by,
            amends=amends,
            evaluation_pending=True,
        )
        for row in rows:
            row.result = result
        ResultValue.objects.bulk_create(rows)
        target = item or _matching_open_item(patient, investigation, taken_on)
        if target is not None:
            target = MonitoringItem.objects.select_for_update().get(pk=target.pk)
            if target.can_take_result():
                target.status = target.completion_status(taken_on)
                target.completed_on = taken_on
                target.result = result
                target.settled_by = by
                target.save(
                    update_fields=["status", "completed_on", "result", "settled_by", "updated_at"]
                )
                close_item_alerts([target.pk], "Closed automatically: result recorded.")
        if check_plan_triggers:
            _resync_plans_triggered_by(patient, {row.analyte for row in rows}, taken_on)
        evaluation_queue.queue(result.pk)
    return result


def _resync_plans_triggered_by(patient: Patient, analytes: set[str], taken_on: date) -> None:
    """A baseline value entered after the start can switch a rule on (fingolimod's prolonged
    QTc schedules overnight ECG monitoring): re-synchronise the plans it is a baseline of."""
    if not analytes:
        return
    plans = (
        DmtPlan.objects.filter(patient=patient, started_on__gte=taken_on)
        .exclude(status=PlanStatus.STOPPED)
        .select_related("protocol_version", "patient")
    )
    for plan in plans:
        triggers = plan.protocol_version.protocol.condition_triggers
        if any(trigger.analyte in analytes for trigger in triggers):
            resync_plan(plan=plan, on=timezone.localdate())


def _check_genotype(investigation: str, genotype: str) -> None:
    """A genotype result is one of the investigation's listed values, and only such a result
    has one (a CYP2C9 genotype decides siponimod's start and dose, §3.7)."""
    listed = get_investigation(investigation).allowed_values if _known(investigation) else ()
    if genotype and not listed:
        raise TreatmentError("This test has no genotype.", field="genotype")
    if listed and not genotype:
        raise TreatmentError(f"Choose the genotype: one of {', '.join(listed)}.", field="genotype")
    if genotype and genotype not in listed:
        raise TreatmentError(
            f"{genotype} is not a listed genotype: choose one of {', '.join(listed)}.",
            field="genotype",
        )


def _matching_open_item(
    patient: Patient, investigation: str, taken_on: date
) -> MonitoringItem | None:
    keys = (
        {investigation, *analytes_of(investigation)} if _known(investigation) else {investigation}
    )
    return (
        MonitoringItem.objects.open()
        .filter(
            patient=patient,
            investigation__in=keys,
            window_opens_on__lte=taken_on,
            window_closes_on__gte=taken_on,
        )
        .order_by("due_on", "id")
        .first()
    )


def _known(investigation: str) -> bool:
    try:
        get_investigation(investigation)
    except LookupError:
        return False
    return True


def review_result(*, result: Result, by: User, note: str = "") -> Result:
    ensure(by, Perm.RESULT_REVIEW)
    if result.is_reviewed:
        raise TreatmentError("This result has already been reviewed.")
    with transaction.atomic():
        result.reviewed_by = by
        result.reviewed_at = timezone.now()
        result.review_note = note.strip()
        result.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        audit.record(
            user=by,
            patient=result.patient_id,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=result,
            detail="result reviewed",
        )
    return result
