"""Correcting the clinical picture: course states, EDSS assessments, relapses and MRI studies.

An amendment is validated exactly like a new record (the `create_*` functions of
`patients.records.services`, run after the original stopped counting), and every correction
recomputes the patient's derived status at once (`refresh_clinical_status`: latest EDSS and
trend, CDP and PIRA, last relapse, NEDA-3), so the chart, the disease-activity section and the
caseload columns follow in the same transaction. What treatments derives from these records
follows: the neurology review a corrected EDSS closed is answered again at once (the tasks of
settings.EDSS_RECORDED_TASKS), the no-EDSS alert is level-triggered and follows on its sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms import BaseForm
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.celery import enqueue_on_commit
from patients.corrections import engine
from patients.corrections.registry import CorrectableKind
from patients.edss import FS_NAMES, FS_ORDER
from patients.models import CourseState, EdssAssessment, MriStudy, Relapse
from patients.records import forms
from patients.records.services import (
    RecordedRelapse,
    create_edss,
    create_mri,
    create_relapse,
    refresh_clinical_status,
)

# ---------------------------------------------------------------------------------------------
# Entered in error (every type), then the derived status
# ---------------------------------------------------------------------------------------------


def mark_in_error(
    *, record: CourseState | EdssAssessment | Relapse | MriStudy, reason: str, by: User
) -> Any:
    """Mark a clinical record entered in error and recompute the patient's status."""
    patient = record.patient
    with transaction.atomic():
        marked = engine.mark_entered_in_error(
            record=record, reason=reason, by=by, patient_id=patient.pk, category=Category.CLINICAL
        )
        if isinstance(marked, CourseState):
            _reopen_course_before(marked, by=by)
        refresh_clinical_status(patient=patient)
        if isinstance(marked, EdssAssessment):
            _edss_changed(patient.pk)
    return marked


def _edss_changed(patient_id: int) -> None:
    """The neurology review a corrected EDSS closed is answered again (treatments, by name)."""
    for task in settings.EDSS_RECORDED_TASKS:
        enqueue_on_commit(task, patient_id)


def _reopen_course_before(state: CourseState, *, by: User) -> None:
    """A current course entered in error: the course it closed automatically (the one ending
    the day before it started, `add_course_state`) is current again, as it was."""
    if state.end_on is not None:
        return
    previous = (
        CourseState.objects.standing()
        .filter(patient_id=state.patient_id, end_on=state.start_on - timedelta(days=1))
        .first()
    )
    if previous is None:
        return
    previous.end_on = None
    previous.save(update_fields=["end_on"])
    audit.record(
        user=by,
        patient=state.patient_id,
        action=Action.UPDATE,
        category=Category.CLINICAL,
        obj=previous,
        detail="current again: the course that followed was entered in error",
    )


# ---------------------------------------------------------------------------------------------
# Amendments
# ---------------------------------------------------------------------------------------------


def _amend(record: Any, reason: str, by: User, build: Any) -> Any:
    with transaction.atomic():
        replacement = engine.amend(
            record=record,
            reason=reason,
            by=by,
            patient_id=record.patient_id,
            category=Category.CLINICAL,
            build=build,
        )
        refresh_clinical_status(patient=record.patient)
        if isinstance(replacement, EdssAssessment):
            _edss_changed(record.patient_id)
    return replacement


COURSE_OPEN = "This patient already has a current disease course: give this one an end date."


def amend_course_state(
    *,
    state: CourseState,
    course: str,
    start_on: date,
    end_on: date | None,
    note: str,
    reason: str,
    by: User,
) -> CourseState:
    """Replace a course state. Unlike recording a new current course, an amendment closes no
    other state: it must fit between the standing ones as it is."""

    def build(original: CourseState) -> CourseState:
        today = timezone.localdate()
        for name, day, what in (("start_on", start_on, "start"), ("end_on", end_on, "end")):
            if day is not None and day > today:
                raise ValidationError({name: f"The {what} date cannot be in the future."})
        if end_on is not None and end_on < start_on:
            raise ValidationError({"end_on": "The end date cannot be before the start date."})
        standing = CourseState.objects.standing().filter(patient_id=original.patient_id)
        overlap = standing.overlapping(start_on, end_on).first()
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
        try:
            with transaction.atomic():
                return CourseState.objects.create(
                    patient_id=original.patient_id,
                    course=course,
                    start_on=start_on,
                    end_on=end_on,
                    note=note,
                    recorded_by=by,
                    amends=original,
                )
        except IntegrityError:
            raise ValidationError({"end_on": COURSE_OPEN}) from None

    return _amend(state, reason, by, build)


def amend_edss(
    *,
    assessment: EdssAssessment,
    assessed_on: date,
    scores: Mapping[str, int | None],
    reason: str,
    by: User,
) -> EdssAssessment:
    """Replace an assessment; the step is computed again from the corrected scores."""
    return _amend(
        assessment,
        reason,
        by,
        lambda original: create_edss(
            patient=original.patient,
            assessed_on=assessed_on,
            scores=scores,
            by=by,
            amends=original,
        ),
    )


def amend_relapse(
    *,
    relapse: Relapse,
    onset_on: date,
    end_on: date | None,
    symptoms: str,
    functional_systems: Iterable[str],
    severity: str,
    objectively_confirmed: bool,
    infection_excluded: bool,
    recovery: str,
    treatment: str,
    reason: str,
    by: User,
) -> RecordedRelapse:
    def build(original: Relapse) -> Relapse:
        recorded = create_relapse(
            patient=original.patient,
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
            amends=original,
        )
        built.append(recorded)
        return recorded.relapse

    built: list[RecordedRelapse] = []
    _amend(relapse, reason, by, build)
    return built[0]


def amend_mri(
    *,
    study: MriStudy,
    study_on: date,
    field_strength: str,
    contrast_given: bool,
    new_or_enlarging_t2: int,
    gad_enhancing: int | None,
    is_baseline: bool,
    report: str,
    reason: str,
    by: User,
) -> MriStudy:
    return _amend(
        study,
        reason,
        by,
        lambda original: create_mri(
            patient=original.patient,
            study_on=study_on,
            field_strength=field_strength,
            contrast_given=contrast_given,
            new_or_enlarging_t2=new_or_enlarging_t2,
            gad_enhancing=gad_enhancing,
            is_baseline=is_baseline,
            report=report,
            by=by,
            amends=original,
        ),
    )


# ---------------------------------------------------------------------------------------------
# The record types, for the correction pages (settings.CORRECTABLE_RECORDS)
# ---------------------------------------------------------------------------------------------


def _section(section: str) -> Any:
    return lambda patient, record: f"{patient.get_absolute_url()}#{section}"


def _initial(record: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def _course_form(record: CourseState, data: Mapping[str, Any] | None) -> BaseForm:
    return forms.CourseStateForm(
        data,
        initial=_initial(record, ("course", "start_on", "end_on", "note")),
        patient=record.patient,
    )


def _edss_form(record: EdssAssessment, data: Mapping[str, Any] | None) -> BaseForm:
    return forms.EdssForm(
        data,
        initial=_initial(record, ("assessed_on", *FS_ORDER, "ambulation")),
        patient=record.patient,
    )


RELAPSE_FIELDS = (
    "onset_on",
    "end_on",
    "symptoms",
    "functional_systems",
    "severity",
    "objectively_confirmed",
    "infection_excluded",
    "recovery",
    "treatment",
)
MRI_FIELDS = (
    "study_on",
    "field_strength",
    "contrast_given",
    "new_or_enlarging_t2",
    "gad_enhancing",
    "is_baseline",
    "report",
)


def _describe_edss(a: EdssAssessment) -> str:
    grades = ", ".join(f"{FS_NAMES[name]} {getattr(a, name)}" for name in FS_ORDER)
    return f"EDSS {a.step} on {a.assessed_on:%d %b %Y} ({grades}; ambulation {a.ambulation})"


def _describe_course(s: CourseState) -> str:
    until = f"{s.end_on:%d %b %Y}" if s.end_on else "now"
    return f"{s.get_course_display()} from {s.start_on:%d %b %Y} to {until}"


def _describe_relapse(r: Relapse) -> str:
    return f"Relapse with onset on {r.onset_on:%d %b %Y} ({r.get_severity_display().lower()}): {r.symptoms}"


def _describe_mri(m: MriStudy) -> str:
    gad = "no contrast" if m.gad_enhancing is None else f"{m.gad_enhancing} Gd-enhancing"
    return f"MRI of {m.study_on:%d %b %Y}: {m.new_or_enlarging_t2} new or enlarging T2, {gad}"


def _with(service: Any, key: str) -> Any:
    """A service taking the record by `key` and the form's cleaned data as keywords."""

    def call(*, record: Any, form: BaseForm, reason: str, by: User) -> Any:
        return service(**{key: record}, **form.cleaned_data, reason=reason, by=by)

    return call


def _amend_edss_form(*, record: EdssAssessment, form: Any, reason: str, by: User) -> Any:
    return amend_edss(
        assessment=record,
        assessed_on=form.cleaned_data["assessed_on"],
        scores=form.scores,
        reason=reason,
        by=by,
    )


def _amend_relapse_form(*, record: Relapse, form: BaseForm, reason: str, by: User) -> Any:
    return amend_relapse(relapse=record, **form.cleaned_data, reason=reason, by=by).relapse


COURSE_STATE = CorrectableKind(
    key="course",
    label="Disease course",
    model=CourseState,
    patient_path="patient",
    category=Category.CLINICAL,
    related=("patient",),
    return_url=_section("course-section"),
    describe=_describe_course,
    mark_in_error=mark_in_error,
    amend=_with(amend_course_state, "state"),
    amend_form=_course_form,
)
EDSS = CorrectableKind(
    key="edss",
    label="EDSS assessment",
    model=EdssAssessment,
    patient_path="patient",
    category=Category.CLINICAL,
    related=("patient",),
    return_url=_section("edss-section"),
    describe=_describe_edss,
    mark_in_error=mark_in_error,
    amend=_amend_edss_form,
    amend_form=_edss_form,
)
RELAPSE = CorrectableKind(
    key="relapse",
    label="Relapse",
    model=Relapse,
    patient_path="patient",
    category=Category.CLINICAL,
    related=("patient",),
    return_url=_section("relapse-section"),
    describe=_describe_relapse,
    mark_in_error=mark_in_error,
    amend=_amend_relapse_form,
    amend_form=lambda record, data: forms.RelapseForm(
        data, initial=_initial(record, RELAPSE_FIELDS), patient=record.patient
    ),
)
MRI = CorrectableKind(
    key="mri",
    label="MRI study",
    model=MriStudy,
    patient_path="patient",
    category=Category.CLINICAL,
    related=("patient",),
    return_url=_section("mri-section"),
    describe=_describe_mri,
    mark_in_error=mark_in_error,
    amend=_with(amend_mri, "study"),
    amend_form=lambda record, data: forms.MriForm(
        data, initial=_initial(record, MRI_FIELDS), patient=record.patient
    ),
)
