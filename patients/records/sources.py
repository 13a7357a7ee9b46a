"""What the patients app contributes to the patient page through `patients.records.timeline`."""

from __future__ import annotations

from collections.abc import Iterable

from patients.models import Patient, Severity
from patients.records.services import clinical_history
from patients.records.timeline import TimelineEvent, correction_line


def clinical_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    """Course changes, EDSS assessments, relapses and MRI studies (four queries, shared with
    the rest of the patient page through `clinical_history`); corrected ones too, struck
    through (an amended record shows once as it was and once as it is)."""
    history = clinical_history(patient)
    base = patient.get_absolute_url()
    for state in history.rows["course_states"]:
        yield TimelineEvent(
            on=state.start_on,
            kind="course",
            title=f"Disease course: {state.get_course_display()}",
            detail=state.note,
            url=f"{base}#course-section",
            correction=correction_line(state),
        )
    for assessment in history.rows["edss"]:
        yield TimelineEvent(
            on=assessment.assessed_on,
            kind="edss",
            title=f"EDSS {assessment.step}",
            detail=assessment.rule,
            url=f"{base}#edss-section",
            correction=correction_line(assessment),
        )
    for relapse in history.rows["relapses"]:
        severity = Severity(relapse.severity).label.lower()
        ended = f", resolved {relapse.end_on:%d %b %Y}" if relapse.end_on else ""
        yield TimelineEvent(
            on=relapse.onset_on,
            kind="relapse",
            title=f"Relapse ({severity}{ended})",
            detail=relapse.symptoms,
            url=f"{base}#relapse-section",
            correction=correction_line(relapse),
        )
    for study in history.rows["mri"]:
        gad = "no contrast" if study.gad_enhancing is None else f"{study.gad_enhancing} Gd+"
        baseline = " (re-baseline)" if study.is_baseline else ""
        yield TimelineEvent(
            on=study.study_on,
            kind="mri",
            title=f"MRI{baseline}: {study.new_or_enlarging_t2} new/enlarging T2, {gad}",
            detail=study.report[:200],
            url=f"{base}#mri-section",
            correction=correction_line(study),
        )
