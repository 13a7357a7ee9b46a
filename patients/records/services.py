"""Workflows on the patient record and the clinical picture.

Each function is keyword-only, runs in one transaction, writes its audit entry, and leaves the
patient's derived status (latest EDSS, trend, confirmed progression, last relapse, NEDA-3) up to
date by calling `refresh_clinical_status`. Bad input raises a `ValidationError` whose keys are
form field names, so a form can show each message next to its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from clinic.permissions import Perm, ensure
from patients.edss import FS_ORDER, EdssInputError, EdssResult, calculate_edss, check_score
from patients.models import (
    CourseState,
    EdssAssessment,
    MriStudy,
    Patient,
    PatientStatus,
    Relapse,
)
from patients.models.corrections import link_amendments
from patients.progression import (
    LabelledProgression,
    NedaStatus,
    ProgressionFinding,
    ProgressionKind,
    edss_trend,
    find_confirmed_progressions,
    label_progressions,
    neda3_for_year,
)

# ---------------------------------------------------------------------------------------------
# The patient record
# ---------------------------------------------------------------------------------------------


def create_patient(*, patient: Patient, by: User) -> Patient:
    """Save a new patient built (and validated) by `PatientForm`."""
    ensure(by, Perm.PATIENT_CREATE)
    with transaction.atomic():
        patient.save()
        audit.record(user=by, patient=patient, action=Action.CREATE, category=Category.DEMOGRAPHICS)
    return patient


def status_reason(patient: Patient, note: str = "") -> str:
    """The reason every consequence of a status change carries."""
    reason = f"patient {patient.get_status_display().lower()}"
    return f"{reason} ({note.strip()})" if note.strip() else reason


def status_consequences(patient: Patient, *, by: User, note: str = "") -> list[str]:
    """What marking `patient` (unsaved, with its new status) as no longer active would do
    elsewhere, one line each: what the confirmation step shows before anything changes."""
    return [
        line
        for path in settings.PATIENT_STATUS_CONSEQUENCES
        for line in import_string(path)(
            patient, reason=status_reason(patient, note), by=by, dry_run=True
        )
    ]


def update_patient(
    *,
    patient: Patient,
    changed: Sequence[str],
    by: User,
    status_confirmed: bool = False,
    status_note: str = "",
) -> Patient:
    """Save changes to a patient's record. The audit entry names the changed fields (never
    their values); pghistory keeps the values.

    Marking a patient deceased or transferred must be confirmed (the caller showed
    `status_consequences`): it then stops their plans, cancels their open monitoring and closes
    their alerts, with that reason, in the same transaction."""
    ensure(by, Perm.PATIENT_EDIT)
    leaving = "status" in changed and patient.status != PatientStatus.ACTIVE
    if leaving and not status_confirmed:
        raise ValidationError(
            {"status": "Confirm what the change of status stops before saving it."}
        )
    with transaction.atomic():
        patient.save()
        audit.record(
            user=by,
            patient=patient,
            action=Action.UPDATE,
            category=Category.DEMOGRAPHICS,
            detail=("Changed: " + ", ".join(changed)) if changed else "No change",
        )
        if leaving:
            reason = status_reason(patient, status_note)
            for path in settings.PATIENT_STATUS_CONSEQUENCES:
                import_string(path)(patient, reason=reason, by=by, dry_run=False)
    return patient


# ---------------------------------------------------------------------------------------------
# Disease course
# ---------------------------------------------------------------------------------------------


def _not_in_future(field_name: str, day: date | None, *, today: date, what: str) -> None:
    if day is not None and day > today:
        raise ValidationError({field_name: f"{what} cannot be in the future."})


def add_course_state(
    *,
    patient: Patient,
    course: str,
    start_on: date,
    end_on: date | None = None,
    note: str = "",
    by: User,
) -> CourseState:
    """Record a disease-course state.

    A new current state (no end date) closes the current one on the day before it starts: the
    course changed that day. A past state (with an end date) must fit between existing ones.
    """
    ensure(by, Perm.COURSE_RECORD)
    today = timezone.localdate()
    _not_in_future("start_on", start_on, today=today, what="The start date")
    _not_in_future("end_on", end_on, today=today, what="The end date")
    if end_on is not None and end_on < start_on:
        raise ValidationError({"end_on": "The end date cannot be before the start date."})
    with transaction.atomic():
        # Lock the patient row: two clinicians changing the course at once must not both
        # close the same open state.
        Patient.objects.select_for_update().get(pk=patient.pk)
        states = CourseState.objects.standing().filter(patient=patient)
        current = states.filter(end_on__isnull=True).first()
        closed_current = False
        if end_on is None and current is not None:
            if current.start_on >= start_on:
                raise ValidationError(
                    {
                        "start_on": (
                            f"The current course ({current.course_short}) started on "
                            f"{current.start_on:%d %b %Y}: a new current course must start "
                            "after that day. To record an earlier course, give it an end date."
                        )
                    }
                )
            current.end_on = start_on - timedelta(days=1)
            closed_current = True
        clash = states.overlapping(start_on, end_on)
        if closed_current and current is not None:
            clash = clash.exclude(pk=current.pk)
        overlap = clash.first()
        if overlap is not None:
            until = f"{overlap.end_on:%d %b %Y}" if overlap.end_on else "now"
            raise ValidationError(
                {
                    "end_on" if end_on is not None else "start_on": (
                        f"These dates overlap the {overlap.course_short} course recorded from "
                        f"{overlap.start_on:%d %b %Y} to {until}."
                    )
                }
            )
        if closed_current and current is not None:
            current.save(update_fields=["end_on"])
        try:
            with transaction.atomic():
                state = CourseState.objects.create(
                    patient=patient,
                    course=course,
                    start_on=start_on,
                    end_on=end_on,
                    note=note,
                    recorded_by=by,
                )
        except IntegrityError:
            raise ValidationError(
                {"end_on": "This patient already has a current disease course."}
            ) from None
        audit.record(
            user=by, patient=patient, action=Action.CREATE, category=Category.CLINICAL, obj=state
        )
        refresh_clinical_status(patient=patient)
    return state


# ---------------------------------------------------------------------------------------------
# EDSS, relapses, MRI
# ---------------------------------------------------------------------------------------------


def record_edss(
    *, patient: Patient, assessed_on: date, scores: Mapping[str, int | None], by: User
) -> EdssAssessment:
    """Compute the Neurostatus-EDSS from the raw scores and store both (§7)."""
    ensure(by, Perm.EDSS_RECORD)
    with transaction.atomic():
        assessment = create_edss(patient=patient, assessed_on=assessed_on, scores=scores, by=by)
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.CLINICAL,
            obj=assessment,
        )
        refresh_clinical_status(patient=patient)
        for task in settings.EDSS_RECORDED_TASKS:
            enqueue_on_commit(task, patient.pk)
    return assessment


def create_edss(
    *,
    patient: Patient,
    assessed_on: date,
    scores: Mapping[str, int | None],
    by: User,
    amends: EdssAssessment | None = None,
) -> EdssAssessment:
    """Validate and save an assessment (the shared part of recording one and of amending one;
    no permission check, no audit). Every invalid score is reported at once."""
    _not_in_future("assessed_on", assessed_on, today=timezone.localdate(), what="The assessment")
    result = _calculated(scores)
    if EdssAssessment.objects.standing().filter(patient=patient, assessed_on=assessed_on).exists():
        raise ValidationError({"assessed_on": EDSS_SAME_DAY})
    try:
        with transaction.atomic():
            return EdssAssessment.objects.create(
                patient=patient,
                assessed_on=assessed_on,
                **{name: scores[name] for name in (*FS_ORDER, "ambulation")},
                step=result.step,
                fs_step=result.fs_step,
                ambulation_step=result.ambulation_step,
                rule=result.rule,
                inconsistencies=list(result.inconsistencies),
                assessed_by=by,
                amends=amends,
            )
    except IntegrityError:  # the same day saved by someone else a moment ago
        raise ValidationError({"assessed_on": EDSS_SAME_DAY}) from None


EDSS_SAME_DAY = "An EDSS is already recorded for this patient on this day."


def _calculated(scores: Mapping[str, int | None]) -> EdssResult:
    """The step, or every out-of-range score at once (a ValidationError keyed by field)."""
    problems = {}
    for name in (*FS_ORDER, "ambulation"):
        try:
            check_score(name, scores.get(name))
        except EdssInputError as error:
            problems[error.field] = str(error)
    if problems:
        raise ValidationError(problems)
    return calculate_edss(**{name: scores.get(name) for name in (*FS_ORDER, "ambulation")})  # type: ignore[arg-type]


@dataclass(frozen=True)
class RecordedRelapse:
    relapse: Relapse
    warnings: tuple[str, ...] = ()


def record_relapse(
    *,
    patient: Patient,
    onset_on: date,
    end_on: date | None,
    symptoms: str,
    functional_systems: Iterable[str],
    severity: str,
    objectively_confirmed: bool,
    infection_excluded: bool,
    recovery: str,
    treatment: str,
    by: User,
) -> RecordedRelapse:
    """Record a relapse. One starting within 30 days of another's onset is saved, with a
    warning that it may be the same event (§9.1): the clinician decides, not the software."""
    ensure(by, Perm.RELAPSE_RECORD)
    with transaction.atomic():
        recorded = create_relapse(
            patient=patient,
            onset_on=onset_on,
            end_on=end_on,
            symptoms=symptoms,
            functional_systems=functional_systems,
            severity=severity,
            objectively_confirmed=objectively_confirmed,
            infection_excluded=infection_excluded,
            recovery=recovery,
            treatment=treatment,
            by=by,
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.CLINICAL,
            obj=recorded.relapse,
        )
        refresh_clinical_status(patient=patient)
    return recorded


RELAPSE_SAME_ONSET = (
    "A relapse with onset on {onset:%d %b %Y} is already recorded for this patient: the same "
    "relapse cannot be recorded twice (amend the existing one instead)."
)


def create_relapse(
    *,
    patient: Patient,
    onset_on: date,
    end_on: date | None,
    symptoms: str,
    functional_systems: Iterable[str],
    severity: str,
    objectively_confirmed: bool,
    infection_excluded: bool,
    recovery: str,
    treatment: str,
    by: User,
    amends: Relapse | None = None,
) -> RecordedRelapse:
    """Validate and save a relapse (shared by recording and amending; no permission check, no
    audit). The same onset as a standing relapse is refused; within 30 days, a warning."""
    today = timezone.localdate()
    _not_in_future("onset_on", onset_on, today=today, what="The onset")
    _not_in_future("end_on", end_on, today=today, what="The end date")
    if end_on is not None and end_on < onset_on:
        raise ValidationError({"end_on": "The end date cannot be before the onset."})
    standing = Relapse.objects.standing().filter(patient=patient)
    if standing.filter(onset_on=onset_on).exists():
        raise ValidationError({"onset_on": RELAPSE_SAME_ONSET.format(onset=onset_on)})
    try:
        with transaction.atomic():
            relapse = Relapse.objects.create(
                patient=patient,
                onset_on=onset_on,
                end_on=end_on,
                symptoms=symptoms,
                functional_systems=[name for name in FS_ORDER if name in set(functional_systems)],
                severity=severity,
                objectively_confirmed=objectively_confirmed,
                infection_excluded=infection_excluded,
                recovery=recovery,
                treatment=treatment,
                recorded_by=by,
                amends=amends,
            )
    except IntegrityError:  # relapse_one_per_onset: the same onset saved a moment ago
        raise ValidationError({"onset_on": RELAPSE_SAME_ONSET.format(onset=onset_on)}) from None
    neighbours = standing.filter(
        onset_on__gt=onset_on - timedelta(days=30),
        onset_on__lt=onset_on + timedelta(days=30),
    ).exclude(pk=relapse.pk)
    warnings = tuple(
        f"This relapse starts within 30 days of the one with onset on "
        f"{other.onset_on:%d %b %Y}: by §9.1 it may be part of the same event."
        for other in neighbours
    )
    if not infection_excluded:
        warnings += (
            "Infection has not been excluded: fever or an infection (often urinary) can "
            "cause a pseudo-relapse (§9.1).",
        )
    return RecordedRelapse(relapse, warnings)


def record_mri(
    *,
    patient: Patient,
    study_on: date,
    field_strength: str,
    contrast_given: bool,
    new_or_enlarging_t2: int,
    gad_enhancing: int | None,
    is_baseline: bool,
    report: str,
    by: User,
) -> MriStudy:
    ensure(by, Perm.MRI_RECORD)
    with transaction.atomic():
        study = create_mri(
            patient=patient,
            study_on=study_on,
            field_strength=field_strength,
            contrast_given=contrast_given,
            new_or_enlarging_t2=new_or_enlarging_t2,
            gad_enhancing=gad_enhancing,
            is_baseline=is_baseline,
            report=report,
            by=by,
        )
        audit.record(
            user=by, patient=patient, action=Action.CREATE, category=Category.CLINICAL, obj=study
        )
        refresh_clinical_status(patient=patient)
    return study


def create_mri(
    *,
    patient: Patient,
    study_on: date,
    field_strength: str,
    contrast_given: bool,
    new_or_enlarging_t2: int,
    gad_enhancing: int | None,
    is_baseline: bool,
    report: str,
    by: User,
    amends: MriStudy | None = None,
) -> MriStudy:
    """Validate and save a study (shared by recording and amending; no permission check, no
    audit)."""
    _not_in_future("study_on", study_on, today=timezone.localdate(), what="The scan date")
    if gad_enhancing is not None and not contrast_given:
        raise ValidationError(
            {"gad_enhancing": "Enhancing lesions can only be counted on a scan with gadolinium."}
        )
    if contrast_given and gad_enhancing is None:
        raise ValidationError(
            {"gad_enhancing": "Gadolinium was given: enter the number of enhancing lesions."}
        )
    if new_or_enlarging_t2 < 0 or (gad_enhancing or 0) < 0:
        raise ValidationError({"new_or_enlarging_t2": "Lesion counts cannot be negative."})
    return MriStudy.objects.create(
        patient=patient,
        study_on=study_on,
        field_strength=field_strength,
        contrast_given=contrast_given,
        new_or_enlarging_t2=new_or_enlarging_t2,
        gad_enhancing=gad_enhancing,
        is_baseline=is_baseline,
        report=report,
        recorded_by=by,
        amends=amends,
    )


# ---------------------------------------------------------------------------------------------
# The clinical picture and the derived status
# ---------------------------------------------------------------------------------------------


@dataclass
class ClinicalHistory:
    """All of one patient's clinical records, oldest first: four queries, whatever their
    number. The patient page, its timeline source and the status refresh share one load.

    `course_states`, `edss`, `relapses` and `mri` are the standing records, the only ones that
    count (CDP, NEDA-3, the chart, the caseload columns). `rows` holds every record by type,
    corrected ones included, for the tables and the timeline that show them struck through."""

    course_states: list[CourseState] = field(default_factory=list)
    edss: list[EdssAssessment] = field(default_factory=list)
    relapses: list[Relapse] = field(default_factory=list)
    mri: list[MriStudy] = field(default_factory=list)
    rows: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, **rows: list[Any]) -> ClinicalHistory:
        for records in rows.values():
            link_amendments(records)
        standing = {name: [r for r in records if r.is_standing] for name, records in rows.items()}
        return cls(**standing, rows=rows)

    @property
    def current_course(self) -> CourseState | None:
        return next((state for state in self.course_states if state.is_open), None)

    @property
    def latest_edss(self) -> EdssAssessment | None:
        return self.edss[-1] if self.edss else None

    def progressions(self) -> list[ProgressionFinding]:
        return find_confirmed_progressions(
            [a.as_point() for a in self.edss], [r.as_period() for r in self.relapses]
        )

    def labelled_progressions(self) -> list[LabelledProgression]:
        """The same events, each labelled PIRA or RAW."""
        return label_progressions(
            [a.as_point() for a in self.edss], [r.as_period() for r in self.relapses]
        )

    def neda(self, year: int) -> NedaStatus:
        return neda3_for_year(
            year,
            [r.as_period() for r in self.relapses],
            [m.as_point() for m in self.mri],
            [a.as_point() for a in self.edss],
        )

    def neda_years(self, *, today: date) -> list[NedaStatus]:
        """NEDA-3 for each year from the first record to last year, newest first. The current
        year is left out: it is not over."""
        days = [a.assessed_on for a in self.edss] + [m.study_on for m in self.mri]
        days += [r.onset_on for r in self.relapses]
        if not days:
            return []
        return [self.neda(year) for year in range(today.year - 1, min(days).year - 1, -1)]

    def close_relapse_ids(self) -> set[int]:
        """Relapses starting within 30 days of an earlier one's onset (§9.1)."""
        close = set()
        for previous, relapse in zip(self.relapses, self.relapses[1:], strict=False):
            if relapse.is_close_after(previous):
                close.add(relapse.pk)
        return close


_HISTORY_CACHE = "_clinical_history"


def clinical_history(patient: Patient, *, fresh: bool = False) -> ClinicalHistory:
    """The patient's clinical records, loaded once per Patient instance (per request)."""
    cached = getattr(patient, _HISTORY_CACHE, None)
    if cached is not None and not fresh:
        return cached
    history = ClinicalHistory.of(
        course_states=list(
            CourseState.objects.filter(patient=patient).select_related("corrected_by")
        ),
        edss=list(EdssAssessment.objects.filter(patient=patient).select_related("corrected_by")),
        relapses=list(Relapse.objects.filter(patient=patient).select_related("corrected_by")),
        mri=list(MriStudy.objects.filter(patient=patient).select_related("corrected_by")),
    )
    setattr(patient, _HISTORY_CACHE, history)
    return history


DERIVED_FIELDS = (
    "current_course",
    "latest_edss",
    "latest_edss_on",
    "previous_edss",
    "edss_trend",
    "cdp_confirmed_on",
    "pira_confirmed_on",
    "last_relapse_onset_on",
    "neda_year",
    "neda_achieved",
)


def derived_status(history: ClinicalHistory, *, today: date) -> dict[str, Any]:
    """The caseload columns, computed from the records (pure: no queries)."""
    current = history.current_course
    latest = history.edss[-1] if history.edss else None
    previous = history.edss[-2] if len(history.edss) > 1 else None
    progressions = history.labelled_progressions()
    pira = [event for event in progressions if event.kind == ProgressionKind.PIRA]
    neda = history.neda(today.year - 1)
    return {
        "current_course": current.course if current else "",
        "latest_edss": Decimal(latest.step) if latest else None,
        "latest_edss_on": latest.assessed_on if latest else None,
        "previous_edss": Decimal(previous.step) if previous else None,
        "edss_trend": edss_trend([a.as_point() for a in history.edss]) or "",
        "cdp_confirmed_on": progressions[-1].finding.confirmed_on if progressions else None,
        "pira_confirmed_on": pira[-1].finding.confirmed_on if pira else None,
        "last_relapse_onset_on": max((r.onset_on for r in history.relapses), default=None),
        "neda_year": today.year - 1,
        "neda_achieved": neda.achieved,
    }


def refresh_clinical_status(*, patient: Patient, today: date | None = None) -> Patient:
    """Recompute the derived columns from the records and save them if they changed.

    Called by every workflow that writes a clinical record, and by the yearly sweep
    (`refresh_all_clinical_status`) so "NEDA last year" moves on when the year does.
    """
    today = today or timezone.localdate()
    history = clinical_history(patient, fresh=True)
    values = derived_status(history, today=today)
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    if changed:
        for name in changed:
            setattr(patient, name, values[name])
        patient.save(update_fields=changed)
    return patient


def refresh_all_clinical_status(*, today: date | None = None) -> int:
    """Recompute every patient's derived status (idempotent); returns how many changed."""
    today = today or timezone.localdate()
    changed = 0
    for patient_id in Patient.objects.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            patient = Patient.objects.select_for_update().get(pk=patient_id)
            before = {name: getattr(patient, name) for name in DERIVED_FIELDS}
            refresh_clinical_status(patient=patient, today=today)
            if any(getattr(patient, name) != value for name, value in before.items()):
                changed += 1
    return changed
