"""Importing laboratory messages: receive, match, record, or hold for review.

Every message is first stored as received (its own transaction, so nothing is lost whatever
happens next), then imported in one transaction: the patient matched by MRN and checked by date
of birth, each code matched to an analyte, each result recorded through
`monitoring.services.create_result`, the path a typed result takes (unit conversion, the lab's
range, closing the open item, evaluation after commit, here in batches), or, for a later status
of the same order (a corrected or final result), amended like any clinical record
(`treatments.corrections.results.amend_from_laboratory`: the earlier result kept and shown
struck through). Anything that stops it rolls the whole import back and holds the message in
the review queue with the reason in plain words. The same control id from the same sender twice
creates nothing new. Every message, each result it created, and every decision on it, is in
the audit trail (one write at the end of the message's transaction).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from patients.models import MRN_PATTERN, Patient
from patients.models.corrections import REASON_MAX_LENGTH
from treatments.corrections.results import amend_from_laboratory as lab_amendment
from treatments.errors import TreatmentError
from treatments.labimport import csvfile, hl7v2
from treatments.labimport.matching import (
    CORRECTED,
    PRELIMINARY,
    CodeBook,
    ImportProblem,
    PlannedResult,
    plan_results,
)
from treatments.labimport.report import LabReport, ParseProblem
from treatments.models import (
    SENDER_PROBLEMS,
    DmtPlan,
    ImportedResult,
    InboundMessage,
    LabCodeMapping,
    MessageFormat,
    MessageState,
    PlanStatus,
    Problem,
    Result,
    ReviewItem,
    ReviewStatus,
)
from treatments.monitoring import evaluation_queue
from treatments.monitoring import services as monitoring

if TYPE_CHECKING:
    from collections.abc import Sequence

INTERFACE_USERNAME = "lab-interface"


@dataclass
class Outcome:
    """What became of one message of an upload or a stream."""

    message: InboundMessage
    duplicate: bool = False

    @property
    def ack_code(self) -> str:
        return self.message.ack_code or "AA"

    @property
    def ack_text(self) -> str:
        if self.duplicate:
            return f"Already received ({self.message.get_state_display().lower()})."
        if self.message.state == MessageState.IMPORTED:
            return f"Imported {self.message.results_count} result(s)."
        return f"Held for review: {self.message.reason}"


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    dry_run: bool = False

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if not o.duplicate and o.message.state == state)

    @property
    def duplicates(self) -> int:
        return sum(1 for o in self.outcomes if o.duplicate)

    @property
    def results(self) -> int:
        return sum(o.message.results_count for o in self.outcomes if not o.duplicate)


class _DryRun(Exception):
    pass


def interface_user() -> User:
    """The account results from the MLLP listener are recorded by: it cannot sign in and sees
    no patient (no role); it only names who recorded them."""
    # The admin role is the one that sees no patient and holds no clinical right (every account
    # must have a known role); inactive, with no usable password, it can never sign in.
    user, created = User.objects.get_or_create(
        username=INTERFACE_USERNAME,
        defaults={
            "first_name": "Laboratory",
            "last_name": "interface",
            "is_active": False,
            "role": Role.ADMIN,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def code_book(overrides: Mapping[str, str] | None = None) -> CodeBook:
    return CodeBook(table=LabCodeMapping.objects.lookup(), overrides=dict(overrides or {}))


@dataclass
class _Arrival:
    """One message as read off the wire or out of a file, before it is stored."""

    raw: str
    fmt: str
    report: LabReport | None
    problem: ParseProblem | None
    header: dict[str, str]

    def fields(self) -> dict[str, str]:
        return {
            name: str(self.header.get(name, ""))[:limit]
            for name, limit in (
                ("control_id", 80),
                ("sending_application", 120),
                ("sending_facility", 120),
                ("message_type", 20),
                ("version", 10),
            )
        }


def _hl7_arrival(raw: str) -> _Arrival:
    try:
        report = hl7v2.parse_oru(raw)
    except ParseProblem as problem:
        return _Arrival(raw, MessageFormat.HL7V2, None, problem, hl7v2.peek_header(raw))
    header = {
        "control_id": report.control_id,
        "sending_application": report.sending_application,
        "sending_facility": report.sending_facility,
        "message_type": report.message_type,
        "version": report.version,
    }
    return _Arrival(raw, MessageFormat.HL7V2, report, None, header)


def _csv_arrivals(text: str, lab: str) -> list[_Arrival]:
    return [
        _Arrival(
            chunk.raw,
            MessageFormat.CSV,
            chunk.report,
            chunk.problem,
            {
                "control_id": chunk.control_id,
                "sending_facility": chunk.sending_facility,
                "sending_application": "CSV",
                "message_type": "CSV",
            },
        )
        for chunk in csvfile.split_csv(text, default_lab=lab)
    ]


@dataclass
class ImportRun:
    """What one import looks up once, rather than once a message: the code table, who records,
    the patients the messages name, and the results of the orders they continue."""

    codes: CodeBook
    recorder: User
    patients: dict[str, Patient] = field(default_factory=dict)
    # The latest start of each patient's plans not stopped: a result dated after it cannot be
    # the baseline of a plan (read once for the import, not once a result).
    latest_start: dict[int, date] = field(default_factory=dict)
    starts_read: set[int] = field(default_factory=set)
    earlier: dict[tuple[int, str, str], ImportedResult] = field(default_factory=dict)

    @classmethod
    def prepare(
        cls, reports: Sequence[LabReport], *, by: User | None, codes: CodeBook
    ) -> ImportRun:
        run = cls(codes=codes, recorder=by or interface_user())
        mrns = {i for r in reports for i in r.patient.identifiers if MRN_PATTERN.match(i)}
        for start in range(0, len(mrns), 5000):
            chunk = sorted(mrns)[start : start + 5000]
            run.patients.update((p.mrn, p) for p in Patient.objects.filter(mrn__in=chunk))
        run.starts_read = {p.pk for p in run.patients.values()}
        run.latest_start = {
            patient_id: started_on
            for patient_id, started_on in DmtPlan.objects.filter(
                patient__in=run.starts_read, started_on__isnull=False
            )
            .exclude(status=PlanStatus.STOPPED)
            .values("patient_id")
            .annotate(latest=Max("started_on"))
            .values_list("patient_id", "latest")
        }
        keys = {
            _order_key(r.sending_facility, o.order_key)
            for r in reports
            for o in r.orders
            if o.order_key
        }
        if keys and run.patients:
            for row in ImportedResult.objects.filter(
                order_key__in=keys, patient__in=[p.pk for p in run.patients.values()]
            ).select_related("result"):
                run.remember(row)
        return run

    def remember(self, row: ImportedResult) -> None:
        self.earlier[(row.patient_id, row.order_key, row.result.investigation)] = row


def _may_trigger(run: ImportRun, patient: Patient, taken_on: date) -> bool:
    if patient.pk not in run.starts_read:  # matched by hand from the review queue
        return True
    latest = run.latest_start.get(patient.pk)
    return latest is not None and latest >= taken_on


def _order_key(facility: str, order_key: str) -> str:
    return f"{facility.upper()}|{order_key}"[:200]


# --- receiving -------------------------------------------------------------------------------


def receive(
    *, text: str, channel: str, by: User | None, lab: str = "", dry_run: bool = False
) -> Summary:
    """Import an upload or a file: HL7 v2 messages (MLLP-framed or not) or CSV rows.

    Every message is stored as received first (one transaction for the whole upload), then each
    is imported in a transaction of its own. A dry run does all of it, reports what would
    happen, and keeps nothing (one audit entry says it ran)."""
    if csvfile.looks_like_csv(text):
        arrivals = _csv_arrivals(text, lab)
    else:
        arrivals = [_hl7_arrival(raw) for raw in hl7v2.split_messages(text)]
    summary = Summary(dry_run=dry_run)
    try:
        with transaction.atomic() if dry_run else contextlib.nullcontext():
            summary.outcomes = _receive(arrivals, channel=channel, by=by)
            if dry_run:
                raise _DryRun
    except _DryRun:
        audit.record(
            user=by,
            action=Action.VIEW,
            category=Category.MONITORING,
            detail=f"lab import dry run: {len(summary.outcomes)} message(s), nothing kept",
        )
    return summary


def receive_hl7(*, raw: str, channel: str, by: User | None) -> Outcome:
    """One HL7 v2 message, as the MLLP listener gets it."""
    [outcome] = _receive([_hl7_arrival(raw)], channel=channel, by=by)
    return outcome


def _receive(arrivals: Sequence[_Arrival], *, channel: str, by: User | None) -> list[Outcome]:
    stored = _store_arrivals(arrivals, channel=channel, by=by)
    run = ImportRun.prepare(
        [
            a.report
            for a, (_, duplicate) in zip(arrivals, stored, strict=True)
            if a.report and not duplicate
        ],
        by=by,
        codes=code_book(),
    )
    outcomes = []
    # Each message commits on its own; their results are evaluated in batches (nothing is lost
    # if this process dies before a batch is sent: the pending-evaluation sweep takes them).
    with evaluation_queue.batched():
        for arrival, (message, duplicate) in zip(arrivals, stored, strict=True):
            if not duplicate:
                if arrival.problem is not None:
                    kind = (
                        Problem.UNSUPPORTED if arrival.problem.unsupported else Problem.UNPARSEABLE
                    )
                    _hold(message, ImportProblem(kind, arrival.problem.message), by=by)
                else:
                    assert arrival.report is not None
                    import_message(message, arrival.report, by=by, run=run)
            outcomes.append(Outcome(message, duplicate=duplicate))
    return outcomes


def _store_arrivals(
    arrivals: Sequence[_Arrival], *, channel: str, by: User | None
) -> list[tuple[InboundMessage, bool]]:
    """Store every arrival as received, in one transaction; a message whose sender and control
    id are already stored (or earlier in this batch) is a duplicate and stores nothing."""
    fields = [a.fields() for a in arrivals]
    wanted = {f["control_id"] for f in fields if f["control_id"]}
    known: dict[tuple[str, str], InboundMessage] = {}
    for start in range(0, len(wanted), 5000):
        for row in InboundMessage.objects.filter(
            control_id__in=sorted(wanted)[start : start + 5000]
        ):
            known[(row.sending_facility, row.control_id)] = row
    placed: list[tuple[InboundMessage, bool]] = []
    new: list[InboundMessage] = []
    for arrival, f in zip(arrivals, fields, strict=True):
        key = (f["sending_facility"], f["control_id"])
        if f["control_id"] and key in known:
            placed.append((known[key], True))
            continue
        message = InboundMessage(
            format=arrival.fmt, channel=channel, raw=arrival.raw, received_by=by, **f
        )
        if f["control_id"]:
            known[key] = message
        new.append(message)
        placed.append((message, False))
    try:
        with transaction.atomic():
            InboundMessage.objects.bulk_create(new, batch_size=500)
            _audit_arrivals(placed, by=by)
    except IntegrityError:
        # The same message arrived by another way at the same moment: store one at a time.
        return [
            _store_one(a, f, channel=channel, by=by) for a, f in zip(arrivals, fields, strict=True)
        ]
    return placed


def _store_one(
    arrival: _Arrival, fields: dict[str, str], *, channel: str, by: User | None
) -> tuple[InboundMessage, bool]:
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                format=arrival.fmt, channel=channel, raw=arrival.raw, received_by=by, **fields
            )
            _audit_arrivals([(message, False)], by=by)
    except IntegrityError:
        existing = InboundMessage.objects.get(
            sending_facility=fields["sending_facility"], control_id=fields["control_id"]
        )
        _audit_arrivals([(existing, True)], by=by)
        return existing, True
    return message, False


def _audit_arrivals(placed: Sequence[tuple[InboundMessage, bool]], *, by: User | None) -> None:
    audit.record_many(
        user=by,
        entries=[
            audit.Entry(
                message.patient_id if duplicate else None,
                Action.VIEW if duplicate else Action.CREATE,
                Category.MONITORING,
                "treatments.inboundmessage",
                str(message.pk),
                "lab message received again: nothing new created"
                if duplicate
                else f"lab message received ({message.get_channel_display().lower()})",
            )
            for message, duplicate in placed
        ],
    )


# --- importing -------------------------------------------------------------------------------


def match_patient(report: LabReport, known: Mapping[str, Patient] | None = None) -> Patient:
    """The patient the report names by MRN, checked against its date of birth."""
    identifiers = [i for i in report.patient.identifiers if MRN_PATTERN.match(i)]
    if known is not None:
        found = list({known[i].pk: known[i] for i in identifiers if i in known}.values())
    else:
        found = list(Patient.objects.filter(mrn__in=identifiers)[:2])
    if not found:
        raise ImportProblem(
            Problem.UNKNOWN_PATIENT, "No patient in Myelin has the MRN this message gives."
        )
    if len(found) > 1:
        raise ImportProblem(
            Problem.UNKNOWN_PATIENT, "The identifiers in this message name more than one patient."
        )
    patient = found[0]
    if report.patient.date_of_birth is None:
        raise ImportProblem(
            Problem.DOB_MISMATCH,
            "The message gives no date of birth to check the patient against.",
            patient=patient,
        )
    if report.patient.date_of_birth != patient.date_of_birth:
        raise ImportProblem(
            Problem.DOB_MISMATCH,
            "The date of birth in the message is not the one on the patient's record.",
            patient=patient,
        )
    return patient


def import_message(
    message: InboundMessage,
    report: LabReport,
    *,
    by: User | None,
    run: ImportRun,
    patient: Patient | None = None,
    note: str = "",
) -> None:
    # What this run remembers of earlier orders must not outlive a rolled-back import.
    remembered = dict(run.earlier)
    try:
        with transaction.atomic():
            patient = patient or match_patient(report, run.patients)
            try:
                planned = plan_results(report, run.codes)
            except ImportProblem as problem:
                problem.patient = patient
                raise
            created: list[Result] = []
            count = _store(
                planned, report=report, message=message, patient=patient, run=run, created=created
            )
            message.state = MessageState.IMPORTED
            message.problem = ""
            message.reason = ""
            message.ack_code = "AA"
            message.patient = patient
            message.results_count = count
            message.settled_at = timezone.now()
            message.save(update_fields=_OUTCOME_FIELDS)
            if note:  # a reviewer's import closes the message's review item
                ReviewItem.objects.filter(message=message, status=ReviewStatus.OPEN).update(
                    status=ReviewStatus.IMPORTED,
                    patient=patient,
                    closed_at=timezone.now(),
                    closed_by=run.recorder,
                    note=note,
                )
            # The audit chain's lock is held to the commit: taken last, it is held the least.
            results_entries = [
                audit.Entry(
                    patient.pk,
                    Action.CREATE,
                    Category.MONITORING,
                    "treatments.result",
                    str(result.pk),
                    f"result {result.investigation}",
                )
                for result in created
            ]
            message_entry = audit.Entry(
                patient.pk,
                Action.CREATE,
                Category.MONITORING,
                "treatments.inboundmessage",
                str(message.pk),
                f"lab message imported: {count} result(s)",
            )
            # Who imported: the uploader, or the interface account for the MLLP listener.
            audit.record_many(user=run.recorder, entries=[*results_entries, message_entry])
    except ImportProblem as problem:
        run.earlier = remembered
        _hold(message, problem, by=by)


def _store(
    planned: Sequence[PlannedResult],
    *,
    report: LabReport,
    message: InboundMessage,
    patient: Patient,
    run: ImportRun,
    created: list[Result],
) -> int:
    """Record the planned results; the new ones are added to `created` (audited by the caller,
    with the message; an amendment audits itself)."""
    source = f"From {report.sending_facility or 'the laboratory'}, message {report.control_id}."
    count = 0
    for result in planned:
        order_key = _order_key(report.sending_facility, result.order_key)
        earlier = (
            run.earlier.get((patient.pk, order_key, result.investigation))
            if result.order_key
            else None
        )
        status_note = {
            PRELIMINARY: "Preliminary result.",
            CORRECTED: "Corrected by the laboratory.",
        }.get(result.status, "")
        try:
            if earlier is not None:
                # A later status of the same order: an amendment (the earlier result is kept,
                # struck through, and what it closed and raised follows the new one).
                why = status_note or "Final result."
                replacement = lab_amendment(
                    result=earlier.result,
                    values=result.values,
                    qualitative=result.qualitative,
                    index_value=result.index_value,
                    note=" ".join(p for p in (why, result.note, source) if p),
                    reason=f"{why} {source}"[:REASON_MAX_LENGTH],
                    by=run.recorder,
                )
                ImportedResult.objects.filter(pk=earlier.pk).update(
                    result=replacement, status=result.status, message=message
                )
                # A fresh row in the run's memory: a rolled-back import restores the old one.
                run.remember(
                    ImportedResult(
                        pk=earlier.pk,
                        result=replacement,
                        message=message,
                        patient=patient,
                        order_key=order_key,
                        status=result.status,
                    )
                )
            else:
                # Recorded on the import's authority (its own check is lab_upload/lab_review).
                stored = monitoring.create_result(
                    patient=patient,
                    investigation=result.investigation,
                    taken_on=result.taken_on,
                    values=result.values,
                    qualitative=result.qualitative,
                    index_value=result.index_value,
                    lab=(report.sending_facility or "Laboratory")[:120],
                    note="\n".join(p for p in (status_note, result.note, source) if p),
                    by=run.recorder,
                    check_plan_triggers=_may_trigger(run, patient, result.taken_on),
                )
                created.append(stored)
                if result.order_key:
                    run.remember(
                        ImportedResult.objects.create(
                            result=stored,
                            message=message,
                            patient=patient,
                            order_key=order_key,
                            status=result.status,
                        )
                    )
        except TreatmentError as error:
            raise ImportProblem(Problem.BAD_VALUE, error.message, patient=patient) from None
        except ValidationError as error:  # the earlier result was corrected in Myelin since
            raise ImportProblem(
                Problem.BAD_VALUE, " ".join(error.messages), patient=patient
            ) from None
        count += len(result.values) + bool(result.qualitative) + (result.index_value is not None)
    return count


# What working a message changes (never the raw text, which stays as it was received).
_OUTCOME_FIELDS = [
    "state",
    "problem",
    "reason",
    "ack_code",
    "patient",
    "results_count",
    "settled_at",
]


def _hold(message: InboundMessage, problem: ImportProblem, *, by: User | None) -> None:
    patient = problem.patient if isinstance(problem.patient, Patient) else None
    with transaction.atomic():
        message.state = MessageState.QUEUED
        message.problem = problem.problem
        message.reason = problem.reason
        message.ack_code = "AE" if problem.problem in SENDER_PROBLEMS else "AA"
        if problem.problem == Problem.UNSUPPORTED:
            message.ack_code = "AR"
        message.patient = patient
        message.results_count = 0
        message.save(update_fields=_OUTCOME_FIELDS)
        ReviewItem.objects.update_or_create(
            message=message,
            defaults={
                "problem": problem.problem,
                "reason": problem.reason,
                "patient": patient,
                "status": ReviewStatus.OPEN,
                "closed_at": None,
                "closed_by": None,
            },
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.UPDATE,
            category=Category.MONITORING,
            obj=message,
            detail=f"lab message held for review: {problem.problem}",
        )
