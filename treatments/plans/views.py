from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from patients.models.corrections import link_amendments
from patients.records.charts import ChartSpec, Series, time_chart
from patients.records.timeline import ChartPeriod
from treatments.errors import TreatmentError
from treatments.models import (
    AdministrationKind,
    ClinicSettings,
    DmtPlan,
    GateOverride,
    MonitoringItem,
    Result,
    ResultValue,
    SymptomaticTreatment,
)
from treatments.plans import forms, gates, history, label_gates
from treatments.plans import services as plan_services
from treatments.protocols import investigation_name
from treatments.symptomatic.interactions import interaction_notes

# --- patient treatments page -------------------------------------------------------------------


def _patient(request: ClinicRequest, external_id: uuid.UUID, action: str = Action.VIEW) -> Patient:
    return get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.TREATMENT,
        action=action,
    )


def _plan(patient: Patient, plan_id: int) -> DmtPlan:
    try:
        return DmtPlan.objects.select_related("protocol_version", "switched_from").get(
            pk=plan_id, patient=patient
        )
    except DmtPlan.DoesNotExist:
        raise Http404("No such plan.") from None


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def patient_treatments(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id)
    today = timezone.localdate()
    context = treatments_context(patient, today=today)
    context.update({"patient": patient, "today": today})
    return render_page(request, "treatments/patient.html", context, partial="monitoring-items")


def treatments_context(patient: Patient, *, today: date) -> dict[str, Any]:
    """Everything the patient's treatment page and panel show, in a fixed number of queries."""
    plans = list(
        DmtPlan.objects.filter(patient=patient)
        .select_related("protocol_version")
        .prefetch_related("administrations")
    )
    current = next((p for p in plans if p.is_current), None)
    planned = [p for p in plans if p.is_planned]
    items = list(
        MonitoringItem.objects.filter(patient=patient)
        .exclude(status="cancelled")
        .select_related("plan", "result")
        .prefetch_related("result__values")
        .order_by("due_on", "id")
    )
    open_items = [i for i in items if i.is_open]
    done_items = MonitoringItem.annotate_status([i for i in items if not i.is_open][-20:], today)
    # Corrected rows too, struck through with who, when and why (patients.models.corrections).
    results = list(
        Result.objects.filter(patient=patient)
        .select_related("corrected_by")
        .prefetch_related(
            Prefetch("values", queryset=ResultValue.objects.select_related("reference_range"))
        )
        .order_by("-taken_on", "-id")[:50]
    )
    link_amendments(results)
    symptomatic = list(
        SymptomaticTreatment.objects.filter(patient=patient).select_related("corrected_by")
    )
    link_amendments(symptomatic)
    protocol = current.protocol_version.protocol if current else None
    running = [t for t in symptomatic if not t.stopped_on and t.is_standing]
    symptomatic_rows = [
        {
            "treatment": t,
            "notes": interaction_notes(
                t.drug, protocol, others=[o.drug for o in running if o.pk != t.pk]
            )
            if not t.stopped_on and t.is_standing
            else [],
        }
        for t in symptomatic
    ]
    return {
        "plans": plans,
        "current_plan": current,
        "planned_plans": planned,
        "open_items": MonitoringItem.annotate_status(open_items, today),
        "done_items": done_items,
        "results": results,
        "symptomatic_rows": symptomatic_rows,
        "charts": trend_charts(patient, plans=plans, today=today),
    }


def trend_charts(patient: Patient, *, plans: list[DmtPlan], today: date) -> list[dict[str, str]]:
    """One SVG chart per analyte with at least two values, the latest lab range as the
    reference band."""
    rows = (
        ResultValue.objects.filter(result__patient=patient, result__correction="")
        .order_by("analyte", "result__taken_on", "id")
        .values_list("analyte", "result__taken_on", "value", "unit", "lln", "uln")
    )
    by_analyte: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_analyte[row[0]].append(row)
    periods = [
        ChartPeriod(start=p.started_on, end=p.stopped_on, label=p.drug_name)
        for p in plans
        if p.started_on is not None
    ]
    charts = []
    for analyte, points in by_analyte.items():
        if len(points) < 2:
            continue  # one value is no trend: it is in the results table
        _, _, _, unit, lln, uln = points[-1]
        band = (float(lln), float(uln)) if lln is not None and uln is not None else None
        name = investigation_name(analyte)
        spec = ChartSpec(
            title=f"{name} ({unit})",
            series=[Series(name, [(p[1], p[2]) for p in points])],
            periods=periods,
            reference_band=band,
            unit=unit,
        )
        charts.append({"analyte": analyte, "name": name, "svg": time_chart(spec, today=today)})
    return charts


# --- plans -----------------------------------------------------------------------------------


def _gate_form_kwargs(request: ClinicRequest, plan: DmtPlan) -> dict[str, Any]:
    """What a start or dose form asks: the override reason only of someone who may override,
    the dose in mg/m² only for a drug dosed by body-surface area."""
    return {
        "can_override": gates.may_override(request.user),
        "by_bsa": plan.protocol_version.protocol.bsa_dosing,
    }


@requires(Perm.PLAN_CREATE)
@patient_page
def plan_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id)
    form = forms.PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_services.plan_dmt(
                patient=patient,
                drug_key=form.cleaned_data["drug_key"],
                conditions=form.cleaned_data["conditions"],
                by=request.user,
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{plan.drug_name} planned. Complete the baseline checks.")
            return redirect(plan.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(
        request, "treatments/plan_new.html", {"patient": patient, "form": form}, status=status
    )


@requires(Perm.HISTORY_RECORD)
@patient_page
def plan_history(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """Record past therapy: a DMT started before Myelin, with its real dates."""
    posting = request.method == "POST"
    patient = _patient(request, external_id, Action.UPDATE if posting else Action.VIEW)
    form = forms.PastTherapyForm(request.POST or None)
    if posting and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = history.record_past_therapy(
                patient=patient,
                drug_key=data["drug_key"],
                started_on=data["started_on"],
                doses=data["doses"],
                first_dose=form.first_dose(),
                courses=data["courses"],
                stopped_on=data["stopped_on"],
                stop_reason=data["stop_reason"],
                stop_note=data["stop_note"],
                conditions=data["conditions"],
                by=request.user,
            )
        except history.HistoryError as error:
            for problem in error.problems:
                form.add_error(
                    problem.field if problem.field in form.fields else None, problem.message
                )
        else:
            messages.success(
                request,
                f"Past therapy recorded: {outcome.plan.drug_name} from "
                f"{outcome.plan.started_on:%d %b %Y}. Monitoring follows the real dates.",
            )
            for warning in outcome.warnings:
                messages.warning(request, warning)
            return redirect(outcome.plan.get_absolute_url())
    context = {
        "patient": patient,
        "form": form,
        "go_live_on": ClinicSettings.load().go_live_on,
        "plans": DmtPlan.objects.filter(patient=patient, started_on__isnull=False).order_by(
            "started_on"
        ),
    }
    return render(request, "treatments/plan_history.html", context, status=422 if posting else 200)


def administrations_shown(plan: DmtPlan) -> list[Any]:
    """The plan's doses and courses, corrected ones too (shown struck through)."""
    return link_amendments(
        list(
            plan.administrations.select_related("recorded_by", "corrected_by").prefetch_related(
                Prefetch(
                    "gate_overrides",
                    queryset=GateOverride.objects.select_related("overridden_by"),
                )
            )
        )
    )


def _plan_context(request: ClinicRequest, patient: Patient, plan: DmtPlan) -> dict[str, Any]:
    today = timezone.localdate()
    protocol = plan.protocol_version.protocol
    baseline = plan_services.baseline_status(plan=plan, on=today) if plan.is_planned else []
    guidance = plan_services.washout_for(plan)
    gate_form = _gate_form_kwargs(request, plan)
    can_override = gate_form["can_override"]
    next_kind = AdministrationKind.COURSE if protocol.has_courses else AdministrationKind.DOSE
    next_gates = (
        gates.unmet_gates(plan=plan, kind=next_kind, given_on=today, preview=True)
        if plan.is_planned or plan.is_current
        else []
    )
    return {
        "patient": patient,
        "plan": plan,
        "protocol": protocol,
        "today": today,
        "baseline": baseline,
        "baseline_complete": all(row.is_satisfied for row in baseline),
        "next_gates": next_gates,
        "next_gates_for": "a start today"
        if plan.is_planned
        else f"the next {AdministrationKind(next_kind).label.lower()} today",
        "can_override": can_override,
        "cumulative": label_gates.cumulative_dose(plan),
        "genotype": label_gates.genotype_dose(plan),
        "to_chase": gates.overrides_to_chase(plan) if plan.started_on else [],
        "administrations": administrations_shown(plan),
        "guidance": guidance,
        "washout_warning": plan_services.washout_warning(plan=plan, starts_on=today)
        if plan.is_planned
        else "",
        "items": MonitoringItem.annotate_status(
            list(
                plan.items.select_related("result")
                .prefetch_related("result__values")
                .order_by("due_on", "id")
            ),
            today,
        ),
        "start_form": forms.StartForm(
            initial={"started_on": today},
            contraception=label_gates.asks_contraception(plan) if plan.is_planned else "",
            **gate_form,
        ),
        "contraception": next(
            (
                r
                for r in plan.baseline_records.all()
                if r.investigation == label_gates.CONTRACEPTION_CHECK
            ),
            None,
        ),
        "dose_form": forms.AdministrationForm(
            initial={"given_on": today, "kind": next_kind}, **gate_form
        ),
        "suspend_form": forms.ReasonDateForm(initial={"on": today}, prefix="suspend"),
        "resume_form": forms.ReasonDateForm(initial={"on": today}, prefix="resume"),
        "stop_form": forms.StopForm(initial={"stopped_on": today}, prefix="stop"),
        "switch_form": forms.SwitchForm(initial={"stopped_on": today}, prefix="switch"),
        "conditions_form": forms.ConditionsForm(initial={"conditions": plan.conditions}),
        "tick_form": forms.BaselineTickForm(initial={"done_on": today}),
    }


@requires(Perm.PATIENT_VIEW)
@patient_page
def plan_detail(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    patient = _patient(request, external_id)
    plan = _plan(patient, plan_id)
    return render(request, "treatments/plan.html", _plan_context(request, patient, plan))


def _plan_action(
    request: ClinicRequest,
    external_id: uuid.UUID,
    plan_id: int,
    *,
    form_class: type,
    form_key: str,
    prefix: str | None,
    act: Any,
    success: str,
    form_kwargs: Callable[[DmtPlan], dict[str, Any]] | None = None,
) -> HttpResponse:
    """POST handler shared by the plan's actions: validate, call the service, redirect; on bad
    input re-render the plan page with the bound form and its messages (422). Nothing is saved
    when a service refuses: each runs in one transaction after its checks."""
    patient = _patient(request, external_id, action=Action.UPDATE)
    plan = _plan(patient, plan_id)
    form = form_class(
        request.POST, prefix=prefix, patient=patient, **(form_kwargs(plan) if form_kwargs else {})
    )
    if form.is_valid():
        try:
            outcome = act(plan, form.cleaned_data)
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, success)
            if isinstance(outcome, str) and outcome:
                messages.warning(request, outcome)
            target = outcome if isinstance(outcome, DmtPlan) else plan
            return redirect(target.get_absolute_url())
    context = _plan_context(request, patient, plan)
    context[form_key] = form
    context["open_form"] = form_key
    return render(request, "treatments/plan.html", context, status=422)


@require_POST
@requires(Perm.PLAN_START)
@patient_page
def plan_start(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> str:
        warning = plan_services.washout_warning(plan=plan, starts_on=data["started_on"])
        plan_services.start_dmt_plan(
            plan=plan,
            started_on=data["started_on"],
            override_reason=data.get("override_reason") or "",
            contraception_confirmed=bool(data.get("contraception_confirmed")),
            dose=forms.dose_entry(data),
            by=request.user,
        )
        return warning

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.StartForm,
        form_key="start_form",
        prefix=None,
        act=act,
        success="DMT started; its monitoring schedule is in place.",
        form_kwargs=lambda plan: {
            **_gate_form_kwargs(request, plan),
            "contraception": label_gates.asks_contraception(plan),
        },
    )


@require_POST
@requires(Perm.DOSE_RECORD)
@patient_page
def plan_dose(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        plan_services.record_administration(
            plan=plan,
            kind=data["kind"],
            given_on=data["given_on"],
            note=data["note"],
            override_reason=data.get("override_reason") or "",
            dose=forms.dose_entry(data),
            by=request.user,
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.AdministrationForm,
        form_key="dose_form",
        prefix=None,
        act=act,
        success="Recorded; monitoring updated.",
        form_kwargs=lambda plan: _gate_form_kwargs(request, plan),
    )


@require_POST
@requires(Perm.PLAN_SUSPEND)
@patient_page
def plan_suspend(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        plan_services.suspend_dmt_plan(
            plan=plan, suspended_on=data["on"], reason=data["reason"], by=request.user
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.ReasonDateForm,
        form_key="suspend_form",
        prefix="suspend",
        act=act,
        success="DMT suspended.",
    )


@require_POST
@requires(Perm.PLAN_RESUME)
@patient_page
def plan_resume(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        plan_services.resume_dmt_plan(
            plan=plan, resumed_on=data["on"], reason=data["reason"], by=request.user
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.ReasonDateForm,
        form_key="resume_form",
        prefix="resume",
        act=act,
        success="DMT resumed.",
    )


@require_POST
@requires(Perm.PLAN_STOP)
@patient_page
def plan_stop(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        plan_services.stop_dmt_plan(
            plan=plan,
            stopped_on=data["stopped_on"],
            reason=data["reason"],
            note=data["note"],
            by=request.user,
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.StopForm,
        form_key="stop_form",
        prefix="stop",
        act=act,
        success="DMT stopped; duties after the stop were updated.",
    )


@require_POST
@requires(Perm.PLAN_SWITCH)
@patient_page
def plan_switch(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> DmtPlan:
        return plan_services.switch_dmt_plan(
            plan=plan,
            stopped_on=data["stopped_on"],
            reason=data["reason"],
            note=data["note"],
            to_drug_key=data["to_drug_key"],
            conditions=data["conditions"],
            by=request.user,
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.SwitchForm,
        form_key="switch_form",
        prefix="switch",
        act=act,
        success="Previous DMT stopped and the new one planned. Check the washout guidance.",
    )


@require_POST
@requires(Perm.PLAN_CONDITIONS)
@patient_page
def plan_conditions(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        plan_services.update_plan_conditions(
            plan=plan, conditions=data["conditions"], by=request.user
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.ConditionsForm,
        form_key="conditions_form",
        prefix=None,
        act=act,
        success="Conditions updated.",
    )


@require_POST
@requires(Perm.BASELINE_TICK)
@patient_page
def plan_baseline_tick(
    request: ClinicRequest, external_id: uuid.UUID, plan_id: int
) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        plan_services.tick_baseline_check(
            plan=plan,
            investigation=data["investigation"],
            done_on=data["done_on"],
            note=data["note"],
            by=request.user,
        )

    return _plan_action(
        request,
        external_id,
        plan_id,
        form_class=forms.BaselineTickForm,
        form_key="tick_form",
        prefix=None,
        act=act,
        success="Baseline check recorded.",
    )
