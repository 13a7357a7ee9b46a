"""The relapse triage line: log a call, apply the relapse definition, and act on the outcome.

Every function is keyword-only, runs in one transaction and writes its audit entry (category
"triage"; the relapse record and the relapse treatment it creates are audited by their own
services, which are reused, not copied). Bad input is refused with `TreatmentError`, naming the
form field it belongs next to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import Patient, Relapse
from patients.models.clinical import FS_ORDER, Recovery, RelapseTreatment
from patients.records import services as records
from treatments.alerts import services as alerts
from treatments.errors import TreatmentError
from treatments.models import (
    AlertKind,
    ClinicSettings,
    Dipstick,
    Indication,
    SymptomaticTreatment,
    TreatmentKind,
    TriageCall,
    TriageOutcome,
)
from treatments.protocols.infusion_day import vital_sign
from treatments.protocols.relapse_triage import RELAPSE_TRIAGE
from treatments.symptomatic import services as symptomatic
from treatments.triage import rules

if TYPE_CHECKING:
    from clinic.accounts.models import User

CALL_TYPE = "treatments.triagecall"
# A call's time is typed by a person: a clock a few minutes fast is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
# The relapse record's treatment for each regimen the triage outcome can start.
RELAPSE_TREATMENT_OF = {
    "oral_mp": RelapseTreatment.ORAL_STEROIDS,
    "iv_mp": RelapseTreatment.IV_METHYLPREDNISOLONE,
    "plex": RelapseTreatment.PLASMA_EXCHANGE,
}
STEROIDS = frozenset({"oral_mp", "iv_mp"})


def last_relapse_onset(patient: Patient, onset_on: date) -> date | None:
    """The onset of the patient's latest relapse on or before `onset_on`."""
    return (
        Relapse.objects.filter(patient=patient, onset_on__lte=onset_on)
        .order_by("-onset_on")
        .values_list("onset_on", flat=True)
        .first()
    )


@dataclass(frozen=True)
class CallReport:
    """What the caller reports, as typed by the nurse."""

    onset_on: date
    duration_hours: int
    symptoms: str
    systems: tuple[str, ...] = ()
    fever: bool = False
    temperature_c: Decimal | None = None
    infection_signs: bool = False
    dipstick: str = Dipstick.NOT_DONE
    heat_trigger: bool = False
    stress_trigger: bool = False
    functional_impact: str = "none"
    red_flags: tuple[str, ...] = ()

    @property
    def has_fever(self) -> bool:
        measured = self.temperature_c is not None and self.temperature_c >= Decimal(
            str(RELAPSE_TRIAGE.fever_from_c)
        )
        return self.fever or measured


def _check_report(report: CallReport, *, called_at: datetime) -> None:
    now = timezone.now()
    if called_at > now + CLOCK_SKEW:
        raise TreatmentError("The call cannot be in the future.", field="called_at")
    called_on = timezone.localtime(called_at).date()
    if report.onset_on > called_on:
        raise TreatmentError("The symptoms cannot begin after the call.", field="onset_on")
    if not report.symptoms.strip():
        raise TreatmentError("Describe the new or worse symptoms.", field="symptoms")
    # The onset is a day: the symptoms cannot have lasted longer than since its first minute.
    since_onset = called_at - datetime.combine(
        report.onset_on, datetime.min.time(), tzinfo=timezone.get_current_timezone()
    )
    if report.duration_hours > since_onset.total_seconds() / 3600:
        raise TreatmentError(
            f"Symptoms that began on {report.onset_on:%d %b %Y} cannot have lasted "
            f"{report.duration_hours} hours by the time of the call.",
            field="duration_hours",
        )
    if report.temperature_c is not None:
        sign = vital_sign("temperature")
        if not sign.low <= report.temperature_c <= sign.high:
            raise TreatmentError(
                f"A temperature between {sign.low:g} and {sign.high:g} °C, please.",
                field="temperature_c",
            )
    unknown = set(report.systems) - set(FS_ORDER)
    if unknown:
        raise TreatmentError("Choose systems from the list.", field="systems")
    flags = {flag.key for flag in RELAPSE_TRIAGE.red_flags}
    if set(report.red_flags) - flags:
        raise TreatmentError("Choose red flags from the list.", field="red_flags")


def assess_report(patient: Patient, report: CallReport) -> rules.Assessment:
    return rules.assess(
        rules.CallFacts(
            onset_on=report.onset_on,
            duration_hours=report.duration_hours,
            fever=report.has_fever,
            infection_signs=report.infection_signs,
            dipstick_positive=Dipstick.is_positive(report.dipstick),
            heat_or_stress=report.heat_trigger or report.stress_trigger,
            red_flags=tuple(report.red_flags),
            last_relapse_onset_on=last_relapse_onset(patient, report.onset_on),
        )
    )


def log_call(
    *,
    patient: Patient,
    report: CallReport,
    called_at: datetime,
    outcome: str = "",
    advice: str = "",
    by: User,
) -> TriageCall:
    """Log the call with what the relapse definition suggests. The nurse may choose another
    outcome than the suggestion, saying why (`advice`). A possible relapse or red flags start a
    clock (the clinic's review target; red flags: the end of the day)."""
    ensure(by, Perm.TRIAGE_LOG)
    _check_report(report, called_at=called_at)
    assessment = assess_report(patient, report)
    chosen = outcome or assessment.suggestion
    if chosen not in TriageOutcome.values:
        raise TreatmentError("Choose an outcome from the list.", field="outcome")
    if chosen != assessment.suggestion and not advice.strip():
        raise TreatmentError(
            "You chose another outcome than the suggestion: say why, in the advice given.",
            field="advice",
        )
    due_at = rules.review_due_at(
        chosen,
        called_at=called_at,
        target_hours=ClinicSettings.load().relapse_review_hours,
        zone=timezone.get_default_timezone(),
    )
    with transaction.atomic():
        call = TriageCall.objects.create(
            patient=patient,
            called_at=called_at,
            taken_by=by,
            onset_on=report.onset_on,
            duration_hours=report.duration_hours,
            symptoms=report.symptoms.strip(),
            systems=[name for name in FS_ORDER if name in set(report.systems)],
            fever=report.has_fever,
            temperature_c=report.temperature_c,
            infection_signs=report.infection_signs,
            dipstick=report.dipstick,
            heat_trigger=report.heat_trigger,
            stress_trigger=report.stress_trigger,
            functional_impact=report.functional_impact,
            red_flags=list(report.red_flags),
            suggestion=assessment.suggestion,
            meets_definition=assessment.meets_definition,
            reasons=list(assessment.reasons),
            catalogue_version=RELAPSE_TRIAGE.version,
            outcome=chosen,
            advice=advice.strip(),
            due_at=due_at,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.TRIAGE,
            obj=call,
            detail=f"triage call logged: {chosen}",
        )
    return call


def _open(call: TriageCall) -> None:
    if not call.is_open:
        raise TreatmentError("This call is closed.")


def _audit_update(call: TriageCall, by: User, detail: str) -> None:
    audit.record(
        user=by,
        patient=call.patient_id,
        action=Action.UPDATE,
        category=Category.TRIAGE,
        obj=call,
        detail=detail,
    )


def book_review(*, call: TriageCall, review_at: datetime, by: User) -> TriageCall:
    """Book the urgent review. A time past the clock is allowed (the clinic may have no earlier
    slot) but shown as late; the clock keeps running until the call is closed."""
    ensure(by, Perm.TRIAGE_LOG)
    _open(call)
    if call.outcome == TriageOutcome.PSEUDO_RELAPSE:
        raise TreatmentError(
            "A pseudo-relapse has no urgent review: change nothing, or log a new call if the "
            "symptoms persist.",
            field="review_at",
        )
    if review_at < call.called_at:
        raise TreatmentError("The review cannot be before the call.", field="review_at")
    with transaction.atomic():
        call.review_at = review_at
        call.save(update_fields=["review_at"])
        _audit_update(call, by, "urgent review booked")
    return call


def record_relapse_from_call(
    *, call: TriageCall, severity: str, objectively_confirmed: bool, by: User
) -> records.RecordedRelapse:
    """A relapse record from the call (onset, symptoms, systems), through the relapse service."""
    ensure(by, Perm.TRIAGE_LOG)
    _open(call)
    if call.relapse_id is not None:
        raise TreatmentError("This call already has its relapse record.", field="severity")
    if call.outcome == TriageOutcome.PSEUDO_RELAPSE:
        raise TreatmentError(
            "The call's outcome is a pseudo-relapse: it is not recorded as a relapse.",
            field="severity",
        )
    infection_excluded = (
        not call.fever and not call.infection_signs and call.dipstick == Dipstick.NEGATIVE
    )
    with transaction.atomic():
        recorded = records.record_relapse(
            patient=call.patient,
            onset_on=call.onset_on,
            end_on=None,
            symptoms=call.symptoms,
            functional_systems=call.systems,
            severity=severity,
            objectively_confirmed=objectively_confirmed,
            infection_excluded=infection_excluded,
            recovery=Recovery.UNKNOWN,
            treatment=_relapse_treatment(call),
            by=by,
        )
        call.relapse = recorded.relapse
        call.save(update_fields=["relapse"])
        _audit_update(call, by, "relapse recorded from the call")
    return recorded


def _relapse_treatment(call: TriageCall) -> str:
    if call.treatment is None:
        return RelapseTreatment.NONE
    for key, value in RELAPSE_TREATMENT_OF.items():
        if RELAPSE_TRIAGE.regimen(key).drug == call.treatment.drug:
            return value
    return RelapseTreatment.NONE


def start_relapse_treatment(
    *, call: TriageCall, regimen_key: str, started_on: date, by: User
) -> tuple[SymptomaticTreatment, list[str]]:
    """Start a relapse treatment of the catalogue through the relapse-treatment service, and
    note it on the call's relapse record. Steroids wait while fever or infection is reported
    (§3.18, GATE); a start more than 14 days after onset is allowed with a warning."""
    ensure(by, Perm.TRIAGE_LOG)
    _open(call)
    try:
        regimen = RELAPSE_TRIAGE.regimen(regimen_key)
    except KeyError:
        raise TreatmentError("Choose a treatment from the list.", field="regimen") from None
    if call.treatment_id is not None:
        raise TreatmentError("This call has already started a relapse treatment.", field="regimen")
    if call.outcome == TriageOutcome.PSEUDO_RELAPSE:
        raise TreatmentError(
            "The call's outcome is a pseudo-relapse: treat the trigger, not the MS.",
            field="regimen",
        )
    febrile = call.fever or call.infection_signs or Dipstick.is_positive(call.dipstick)
    if regimen_key in STEROIDS and febrile:
        raise TreatmentError(
            "Fever, infection signs or a positive dipstick were reported: treat the infection "
            "before steroids (§3.18).",
            field="regimen",
        )
    if started_on < call.onset_on:
        raise TreatmentError("A treatment cannot start before the onset.", field="started_on")
    warnings = []
    window = RELAPSE_TRIAGE.treatment_window_days
    if (started_on - call.onset_on).days > window:
        warnings.append(
            f"Started more than {window} days after onset ({RELAPSE_TRIAGE.treatment_window_source})."
        )
    with transaction.atomic():
        treatment = symptomatic.record_symptomatic_treatment(
            patient=call.patient,
            kind=TreatmentKind.RELAPSE,
            drug=regimen.drug,
            indication=Indication.RELAPSE,
            dose=regimen.dose,
            started_on=started_on,
            stopped_on=None,
            note="Started from a relapse triage call.",
            by=by,
        )
        call.treatment = treatment
        call.save(update_fields=["treatment"])
        if call.relapse is not None:
            relapse = call.relapse
            relapse.treatment = RELAPSE_TREATMENT_OF[regimen_key]
            relapse.save(update_fields=["treatment"])
            audit.record(
                user=by,
                patient=call.patient_id,
                action=Action.UPDATE,
                category=Category.CLINICAL,
                obj=relapse,
                detail="relapse treatment noted",
            )
        _audit_update(call, by, "relapse treatment started from the call")
    return treatment, warnings


def close_call(*, call: TriageCall, note: str, by: User) -> TriageCall:
    """Close the call (reviewed, advice followed, or handed on); its clock stops and a breach
    alert, if one was raised, resolves."""
    ensure(by, Perm.TRIAGE_LOG)
    _open(call)
    if not note.strip():
        raise TreatmentError("Say how the call ended (seen, advice, handed on).", field="note")
    with transaction.atomic():
        call.closed_at = timezone.now()
        call.closed_by = by
        call.close_note = note.strip()
        call.save(update_fields=["closed_at", "closed_by", "close_note"])
        alerts.resolve_raised_by(
            raised_by_type=CALL_TYPE,
            raised_by_ids=[call.pk],
            note="Closed automatically: the triage call was closed.",
            kinds=[AlertKind.TRIAGE_OVERDUE],
        )
        _audit_update(call, by, "triage call closed")
    return call
