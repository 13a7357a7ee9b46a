"""What treatments contributes to the patient page: timeline events, DMT periods, a panel.

Each source runs a fixed number of queries whatever the patient's history (patients.records.timeline).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from patients.records.timeline import ChartPeriod, Panel, TimelineEvent, correction_line

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Patient
    from treatments.models import DmtPlan


def _plans(patient: Patient) -> list[DmtPlan]:
    """The patient's DMT plans, newest first, loaded once per patient object (which lives for
    one request): the timeline, the chart bands and the panel share one query."""
    from treatments.models import DmtPlan

    cached: list[DmtPlan] | None = getattr(patient, "_dmt_plans", None)
    if cached is None:
        cached = list(DmtPlan.objects.filter(patient=patient))
        patient._dmt_plans = cached  # type: ignore[attr-defined]
    return cached


def dmt_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import AdministrationKind, DmtAdministration

    plans = _plans(patient)
    for plan in plans:
        url = reverse(
            "treatments:plan", kwargs={"external_id": patient.external_id, "plan_id": plan.pk}
        )
        yield TimelineEvent(plan.planned_on, "dmt", f"{plan.drug_name} planned", url=url)
        if plan.started_on:
            detail = "Started with baseline override" if plan.has_override else ""
            yield TimelineEvent(plan.started_on, "dmt", f"{plan.drug_name} started", detail, url)
        if plan.stopped_on:
            yield TimelineEvent(
                plan.stopped_on,
                "dmt",
                f"{plan.drug_name} stopped",
                f"{plan.get_stop_reason_display()}. {plan.stop_note}".strip(),
                url,
            )
    courses = DmtAdministration.objects.filter(
        plan__patient=patient, kind=AdministrationKind.COURSE
    ).select_related("plan", "corrected_by")
    for course in courses:
        yield TimelineEvent(
            course.given_on,
            "dmt",
            f"{course.plan.drug_name} course",
            correction=correction_line(course),
        )


def gate_override_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    """Each gate a neurologist overrode, on the day of the dose it let through (one query)."""
    from treatments.models import GateAction, GateOverride

    rows = GateOverride.objects.filter(patient=patient).select_related(
        "plan", "administration", "overridden_by"
    )
    for row in rows:
        url = reverse(
            "treatments:plan", kwargs={"external_id": patient.external_id, "plan_id": row.plan_id}
        )
        yield TimelineEvent(
            row.administration.given_on,
            "gate-override",
            f"{row.plan.drug_name}: gate overridden ({GateAction(row.action).label.lower()})",
            # The reason first: the timeline shortens long details.
            f"{row.overridden_by.display_name}: {row.reason} — {row.rule}; found {row.value_seen}",
            url,
        )


def results_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import Result

    url = reverse("treatments:patient", kwargs={"external_id": patient.external_id})
    results = Result.objects.filter(patient=patient).select_related("corrected_by")
    for result in results.prefetch_related("values"):
        kind = "result-abnormal" if result.is_abnormal and result.is_standing else "result"
        yield TimelineEvent(
            result.taken_on,
            kind,
            result.investigation_name,
            result.summary(),
            url,
            correction=correction_line(result),
        )


def symptomatic_timeline(patient: Patient) -> Iterable[TimelineEvent]:
    from treatments.models import SymptomaticTreatment

    treatments = SymptomaticTreatment.objects.filter(patient=patient)
    for treatment in treatments.select_related("corrected_by"):
        title = f"{treatment.drug} ({treatment.get_indication_display().lower()})"
        kind = "relapse-treatment" if treatment.is_relapse_treatment else "symptomatic"
        corrected = correction_line(treatment)
        yield TimelineEvent(
            treatment.started_on, kind, f"{title} started", treatment.dose, correction=corrected
        )
        if treatment.stopped_on:
            yield TimelineEvent(
                treatment.stopped_on, kind, f"{title} stopped", correction=corrected
            )


def dmt_periods(patient: Patient) -> Iterable[ChartPeriod]:
    """DMT courses as chart bands, oldest first (from the plans shared with the timeline)."""
    return [
        ChartPeriod(start=plan.started_on, end=plan.stopped_on, label=plan.drug_name)
        for plan in reversed(_plans(patient))
        if plan.started_on is not None
    ]


def treatments_panel(request: HttpRequest, patient: Patient) -> Panel:
    from treatments.models import MonitoringItem

    today = timezone.localdate()
    # At most one plan is current (one_current_dmt_plan).
    current = next((plan for plan in _plans(patient) if plan.is_current), None)
    # One query: a patient has tens of open items at most (the horizon is 13 months).
    open_items = list(MonitoringItem.objects.filter(patient=patient).open().order_by("due_on"))
    from treatments.plans.gates import overrides_to_chase

    if current is not None:
        current.patient = patient  # no query for the patient the page already has
    context = {
        "panel_patient": patient,
        "panel_plan": current,
        # Checks overridden at the start and still owed: open items until done.
        "panel_to_chase": overrides_to_chase(current) if current is not None else [],
        "panel_overdue": [item for item in open_items if item.window_closes_on < today],
        "panel_next": [item for item in open_items if item.window_closes_on >= today][:5],
    }
    return Panel(template="treatments/patient.html#treatments-panel", context=context)
