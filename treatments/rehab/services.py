"""Rehab workflows: logging a session with its outcome measures, therapy plans, and the trends
and timeline entries rehab contributes to the patient page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, ensure
from patients.models import EdssAssessment, Patient, Referral, Relapse, Severity
from patients.records.charts import ChartSpec, Marker, Series, patient_axis, time_chart
from patients.records.timeline import (
    Panel,
    TimelineEvent,
    correction_line,
    periods_for,
)
from treatments import outcomes
from treatments.models import (
    ChangeDirection,
    OutcomeMeasurement,
    OutcomeSource,
    PlanProgress,
    RehabSession,
    TherapyPlan,
)


class RehabRefused(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class InvalidMeasurements(Exception):
    """Outcome fields that :func:`treatments.outcomes.validate` rejects, per measure."""

    def __init__(self, errors: dict[str, list[tuple[str, str]]]) -> None:
        self.errors = errors
        super().__init__("Invalid outcome measures: " + ", ".join(errors))


def _check(*, patient: Patient, by: User, perm: Perm) -> None:
    ensure(by, perm)
    # editable_by: emergency access to a patient is read-only, so it logs nothing.
    if not Patient.objects.editable_by(by).filter(pk=patient.pk).exists():
        raise RehabRefused("This patient is not in your care teams.")


def _compare(measurement: OutcomeMeasurement, previous: OutcomeMeasurement | None) -> None:
    measurement.previous = previous
    if previous is None:
        measurement.change = ChangeDirection.NONE
        measurement.change_delta = measurement.change_percent = None
        measurement.threshold_text = ""
        return
    change = outcomes.meaningful_change(measurement.measure, previous.score, measurement.score)
    measurement.change = change.direction
    measurement.change_delta = change.delta
    measurement.change_percent = change.percent
    measurement.threshold_text = change.threshold_text


def _neighbours(
    *, patient: Patient, measure: str, on: date
) -> tuple[OutcomeMeasurement | None, OutcomeMeasurement | None]:
    """The patient's measurements of ``measure`` just before (or on) and just after ``on``."""
    same = OutcomeMeasurement.objects.standing().filter(patient=patient, measure=measure)
    before = same.filter(measured_on__lte=on).order_by("-measured_on", "-id").first()
    after = same.filter(measured_on__gt=on).order_by("measured_on", "id").first()
    return before, after


def save_in_sequence(measurement: OutcomeMeasurement) -> OutcomeMeasurement:
    """Save a new measurement compared with the patient's previous value of the measure
    (whoever recorded it: a therapist or the patient), and re-compare the next one if it was
    entered late, so every flag is against the value that really preceded it."""
    before, after = _neighbours(
        patient=measurement.patient, measure=measurement.measure, on=measurement.measured_on
    )
    _compare(measurement, before)
    measurement.save()
    if after is not None:
        _compare(after, measurement)
        after.save()
    return measurement


def log_session(
    *,
    patient: Patient,
    by: User,
    held_on: date,
    duration_minutes: int,
    discipline: str,
    setting: str,
    interventions: list[str],
    goals: str = "",
    progress: str = "",
    notes: str = "",
    referral: Referral | None = None,
    measurements: Mapping[str, Mapping[str, Any]] | None = None,
) -> RehabSession:
    """Log a session and its outcome measures; each measure is compared with the patient's
    previous value of it and a change beyond its threshold (§8.2) is flagged on the row.

    A session entered late, before an existing later measurement, also re-compares that later
    measurement with the new one, so every flag is against the value that really preceded it.
    """
    _check(patient=patient, by=by, perm=Perm.REHAB_SESSION_LOG)
    check_session(patient=patient, held_on=held_on, referral=referral)
    measurements = measurements or {}
    for key in measurements:
        if key in outcomes.MEASURES and outcomes.MEASURES[key].patient_reported_only:
            raise RehabRefused(
                f"{outcomes.MEASURES[key].name} is completed by the patient from a questionnaire "
                "link, not logged in a session."
            )
    errors = {key: outcomes.validate(key, fields) for key, fields in measurements.items()}
    errors = {key: errs for key, errs in errors.items() if errs}
    if errors:
        raise InvalidMeasurements(errors)
    with transaction.atomic():
        session = RehabSession.objects.create(
            patient=patient,
            therapist=by,
            held_on=held_on,
            duration_minutes=duration_minutes,
            discipline=discipline,
            setting=setting,
            interventions=list(interventions),
            goals=goals.strip(),
            progress=progress.strip(),
            notes=notes.strip(),
            referral=referral,
        )
        for key, fields in measurements.items():
            raw = {name: str(value) for name, value in fields.items() if value not in (None, "")}
            save_in_sequence(
                OutcomeMeasurement(
                    session=session,
                    patient=patient,
                    measure=key,
                    measured_on=held_on,
                    fields=raw,
                    score=outcomes.score(key, raw),
                )
            )
        audit.record(
            user=by,
            patient=patient,
            action=Action.CREATE,
            category=Category.REHAB,
            obj=session,
            detail=f"rehab session with {len(measurements)} outcome measure(s)",
        )
    return session


def check_session(*, patient: Patient, held_on: date, referral: Referral | None) -> None:
    """What a session must be, whether logged or amended."""
    if held_on > timezone.localdate():
        raise RehabRefused("A session cannot be logged for a future date.", field="held_on")
    if referral is not None and referral.patient_id != patient.pk:
        raise RehabRefused("That referral is for another patient.", field="referral")


def recompare_measures(*, patient: Patient, measures: Iterable[str]) -> int:
    """Compare each standing measurement of `measures` with the one before it again (after a
    session was corrected, its measurements left or moved). Returns how many changed."""
    changed = 0
    for measure in set(measures):
        previous: OutcomeMeasurement | None = None
        rows = OutcomeMeasurement.objects.standing().filter(patient=patient, measure=measure)
        for row in rows.order_by("measured_on", "id"):
            before = (row.previous_id, row.change, row.change_delta, row.change_percent)
            _compare(row, previous)
            after = (row.previous_id, row.change, row.change_delta, row.change_percent)
            if before != after:
                row.save(
                    update_fields=[
                        "previous",
                        "change",
                        "change_delta",
                        "change_percent",
                        "threshold_text",
                    ]
                )
                changed += 1
            previous = row
    return changed


def create_therapy_plan(
    *,
    patient: Patient,
    by: User,
    discipline: str,
    goals: str,
    planned_sessions: int,
    frequency: str,
    starts_on: date,
) -> TherapyPlan:
    _check(patient=patient, by=by, perm=Perm.THERAPY_PLAN_MANAGE)
    with transaction.atomic():
        plan = TherapyPlan.objects.create(
            patient=patient,
            discipline=discipline,
            goals=goals.strip(),
            planned_sessions=planned_sessions,
            frequency=frequency,
            starts_on=starts_on,
            created_by=by,
        )
        audit.record(
            user=by, patient=patient, action=Action.CREATE, category=Category.REHAB, obj=plan
        )
    return plan


def end_therapy_plan(*, plan: TherapyPlan, by: User, ended_on: date) -> TherapyPlan:
    _check(patient=plan.patient, by=by, perm=Perm.THERAPY_PLAN_MANAGE)
    if ended_on < plan.starts_on:
        raise RehabRefused("A plan cannot end before it starts.")
    with transaction.atomic():
        plan.ended_on = ended_on
        plan.save(update_fields=["ended_on"])
        audit.record(
            user=by, patient=plan.patient, action=Action.UPDATE, category=Category.REHAB, obj=plan
        )
    return plan


# -- reads for pages -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    plan: TherapyPlan
    progress: PlanProgress


def plans_with_progress(*, patient: Patient, today: date) -> list[PlanRow]:
    """The patient's plans with sessions done (same discipline, within the plan's dates), in
    one query."""
    done = (
        RehabSession.objects.standing()
        .filter(
            patient=OuterRef("patient"),
            discipline=OuterRef("discipline"),
            held_on__gte=OuterRef("starts_on"),
        )
        .filter(held_on__lte=Coalesce(OuterRef("ended_on"), Value(date.max)))
        .order_by()
        .values("patient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    plans = TherapyPlan.objects.filter(patient=patient).annotate(
        done=Coalesce(Subquery(done, output_field=IntegerField()), 0)
    )
    rows = []
    for plan in plans:
        rows.append(PlanRow(plan, plan.progress_on(today, done=plan.done)))  # type: ignore[attr-defined]
    return rows


@dataclass(frozen=True)
class Trend:
    measure: outcomes.Measure
    chart: str
    latest: OutcomeMeasurement


def outcome_trends(*, patient: Patient, today: date) -> list[Trend]:
    """One chart per measure the patient has, on the shared axis of DMT periods and relapses."""
    measurements = list(
        OutcomeMeasurement.objects.standing().filter(patient=patient).order_by("measured_on", "id")
    )
    if not measurements:
        return []
    periods = periods_for(patient)
    # Relapses mark the charts as they do the EDSS chart (one query, not the whole timeline).
    markers = [
        Marker(r.onset_on, f"Relapse ({Severity(r.severity).label.lower()})")
        for r in Relapse.objects.filter(patient=patient).standing().order_by("onset_on", "id")
    ]
    # The EDSS chart's time axis, so a change here lines up with one there; a patient with no
    # EDSS yet gets an axis of their own around the measurements.
    edss_dates = list(
        EdssAssessment.objects.filter(patient=patient)
        .standing()
        .values_list("assessed_on", flat=True)
    )
    axis = patient_axis(edss_dates, [m.on for m in markers], periods, today) if edss_dates else None
    by_measure: dict[str, list[OutcomeMeasurement]] = {}
    for m in measurements:
        by_measure.setdefault(m.measure, []).append(m)
    trends = []
    for key, spec in outcomes.MEASURES.items():
        rows = by_measure.get(key)
        if not rows:
            continue
        series = _series(key, spec, rows)
        chart = time_chart(
            ChartSpec(
                title=f"{spec.name} ({spec.score_unit}; "
                f"{'higher is better' if spec.higher_is_better else 'higher is worse'})",
                series=series,
                periods=periods,
                markers=markers,
                y_min=float(spec.score_minimum)
                if key in ("bbs", "sdmt", "mfis", "msis29", "phq9")
                else None,
                y_max=float(spec.score_maximum)
                if key in ("bbs", "mfis", "msis29", "phq9") and spec.score_maximum is not None
                else None,
                unit=f" {spec.score_unit}",
                axis=axis,
            ),
            today=today,
        )
        trends.append(Trend(spec, chart, rows[-1]))
    return trends


def _series(key: str, spec: outcomes.Measure, rows: list[OutcomeMeasurement]) -> list[Series]:
    """One series per source (clinician, patient-reported) that has values; MSIS-29 draws its
    physical and psychological scales as two."""
    series = []
    for source, suffix in (
        (OutcomeSource.CLINICIAN, ""),
        (OutcomeSource.PATIENT_REPORTED, " (patient-reported)"),
    ):
        mine = [m for m in rows if m.source == source]
        if not mine:
            continue
        if key == "msis29":
            series.append(Series(f"Physical{suffix}", [(m.measured_on, m.score) for m in mine]))
            series.append(
                Series(
                    f"Psychological{suffix}",
                    [(m.measured_on, Decimal(m.fields["psychological"])) for m in mine],
                )
            )
        else:
            series.append(Series(f"{spec.name}{suffix}", [(m.measured_on, m.score) for m in mine]))
    return series


def patient_reported(*, patient: Patient, limit: int = 30) -> list[OutcomeMeasurement]:
    """The patient's questionnaire scores, newest first (one query)."""
    return list(
        OutcomeMeasurement.objects.filter(patient=patient, source=OutcomeSource.PATIENT_REPORTED)
        .select_related("questionnaire_link")
        .order_by("-measured_on", "-id")[:limit]
    )


# -- what rehab contributes to the patient page ---------------------------------------------


def rehab_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    url = reverse("rehab:patient", kwargs={"external_id": patient.external_id})
    sessions = (
        RehabSession.objects.filter(patient=patient)
        .select_related("corrected_by")
        .prefetch_related("measurements")
    )
    for session in sessions:
        flagged = [m for m in session.measurements.all() if m.is_flagged and session.is_standing]
        detail = "; ".join(
            f"{m.measure_spec.name}: {m.get_change_display().lower()}" for m in flagged
        )
        yield TimelineEvent(
            on=session.held_on,
            kind="rehab",
            title=f"{session.get_discipline_display()} session ({session.duration_minutes} min)",
            detail=detail,
            url=url,
            correction=correction_line(session),
        )


def rehab_panel(request: HttpRequest, patient: Patient) -> Panel:
    today = timezone.localdate()
    return Panel(
        template="rehab/patient_panel.html#rehab-panel",
        context={
            "patient": patient,
            "trends": outcome_trends(patient=patient, today=today),
            "plans": [
                row
                for row in plans_with_progress(patient=patient, today=today)
                if row.plan.ended_on is None
            ],
        },
    )
