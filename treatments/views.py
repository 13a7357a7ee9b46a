from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic.access import (
    ClinicRequest,
    clinician_required,
    get_patient_for,
    patient_page,
    render_page,
    role_required,
    visible_patient_ids,
)
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from patients.charts import ChartSpec, Series, time_chart
from patients.models import Patient
from patients.timeline import ChartPeriod
from treatments import forms, services
from treatments.interactions import interaction_notes
from treatments.models import (
    AdministrationKind,
    ClinicSettings,
    DmtPlan,
    MonitoringItem,
    ProtocolVersion,
    Result,
    ResultValue,
    SymptomaticTreatment,
)
from treatments.protocols import (
    Anchor,
    Protocol,
    baseline_checklist,
    get_investigation,
)
from treatments.services import TreatmentError

MONITORING_ROLES = ("neurologist", "nurse")
PRESCRIBER_ROLES = ("neurologist",)
WORKLIST_TABS = {
    "due": "Due this week",
    "overdue": "Overdue",
    "booked": "Booked, awaiting result",
    "review": "Results to review",
}


# --- catalogue -------------------------------------------------------------------------------


def catalogue(request: ClinicRequest) -> HttpResponse:
    """Every drug's protocol in the clinic's label region (others one click away)."""
    clinic = ClinicSettings.load()
    region = request.GET.get("region") or clinic.label_region
    if region not in ("US", "EU"):
        region = clinic.label_region
    versions = [
        v
        for v in ProtocolVersion.objects.filter(region=region).order_by(
            "drug_name", "-effective_from"
        )
    ]
    latest: dict[str, ProtocolVersion] = {}
    for version in versions:
        latest.setdefault(version.drug_key, version)
    context = {
        "versions": list(latest.values()),
        "region": region,
        "clinic": clinic,
    }
    return render_page(request, "treatments/catalogue.html", context, partial="catalogue-list")


def drug_detail(request: ClinicRequest, drug_key: str) -> HttpResponse:
    clinic = ClinicSettings.load()
    region = request.GET.get("region") or clinic.label_region
    versions = list(ProtocolVersion.objects.filter(drug_key=drug_key).order_by("-effective_from"))
    if not versions:
        raise Http404("No such drug in the catalogue.")
    in_region = [v for v in versions if v.region == region] or versions
    version = in_region[0]
    protocol = version.protocol
    context = {
        "version": version,
        "protocol": protocol,
        "versions": versions,
        "region": version.region,
        "regions": sorted({v.region for v in versions}),
        "rules": [_rule_view(protocol, rule) for rule in protocol.monitoring_rules],
        "checklist": baseline_checklist(protocol),
        "investigation_name": _investigation_name,
    }
    return render(request, "treatments/drug.html", context)


def _investigation_name(key: str) -> str:
    try:
        return get_investigation(key).name
    except LookupError:
        return key


_ANCHOR_PHRASES = {
    Anchor.FIRST_DOSE: "the first dose",
    Anchor.EACH_DOSE: "each dose",
    Anchor.EACH_COURSE: "the start of each course",
    Anchor.LAST_DOSE: "the most recent dose",
    Anchor.STOP: "the stop",
}


def _rule_view(protocol: Protocol, rule: Any) -> dict[str, str]:
    unit = rule.unit.value.rstrip("s")
    parts = []
    if rule.offsets:
        parts.append(f"{unit}s " + ", ".join(str(o) for o in rule.offsets))
    if rule.repeat_every:
        start = rule.repeat_start
        parts.append(
            f"then every {rule.repeat_every} {unit}s" + (f" from {unit} {start}" if start else "")
        )
    if rule.interval_setting:
        parts.append("every review interval (clinic setting, 3–6 months)")
    until = ""
    if rule.until:
        until = (
            f"{rule.until.amount} {rule.until.unit.value} after "
            f"{_ANCHOR_PHRASES[rule.until.anchor]}"
        )
    elif rule.anchor == Anchor.LAST_DOSE:
        until = "the next dose"
    else:
        until = "while on the drug" if not rule.survives_stop else "see rule"
    conditions = ", ".join(c.value.replace("_", " ") for c in rule.when)
    return {
        "key": rule.key,
        "what": _investigation_name(rule.investigation),
        "text": rule.text,
        "anchor": _ANCHOR_PHRASES[rule.anchor],
        "when": "; ".join(parts) or "once",
        "until": until + (" (continues after a stop)" if rule.survives_stop else ""),
        "window": f"{rule.window_before_days} days before to {rule.window_after_days} days after",
        "conditions": conditions,
        "sources": "; ".join(rule.sources),
        "verify": rule.verify_note,
    }


@role_required("admin")
def clinic_settings(request: ClinicRequest) -> HttpResponse:
    clinic = ClinicSettings.load()
    form = forms.SettingsForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        services.update_clinic_settings(
            label_region=form.cleaned_data["label_region"],
            review_interval_months=form.cleaned_data["review_interval_months"],
            by=request.user,
        )
        messages.success(
            request, "Clinic settings saved. New plans use them; running plans keep theirs."
        )
        return redirect("treatments:settings")
    status = 422 if request.method == "POST" else 200
    return render(request, "treatments/settings.html", {"form": form}, status=status)


# --- patient treatments page -------------------------------------------------------------------


def _patient(request: ClinicRequest, external_id: uuid.UUID, action: str = Action.VIEW) -> Patient:
    return get_patient_for(request, external_id, category=Category.TREATMENT, action=action)


def _plan(patient: Patient, plan_id: int) -> DmtPlan:
    try:
        return DmtPlan.objects.select_related("protocol_version", "switched_from").get(
            pk=plan_id, patient=patient
        )
    except DmtPlan.DoesNotExist:
        raise Http404("No such plan.") from None


@clinician_required
@patient_page
@vary_on_headers("HX-Request")
def patient_treatments(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id)
    today = timezone.localdate()
    context = treatments_context(patient, today=today)
    context.update({"patient": patient, "today": today, "can_monitor": _can_monitor(request)})
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
    done_items = annotate_status([i for i in items if not i.is_open][-20:], today)
    results = list(
        Result.objects.filter(patient=patient)
        .prefetch_related("values")
        .order_by("-taken_on", "-id")[:50]
    )
    symptomatic = list(SymptomaticTreatment.objects.filter(patient=patient))
    protocol = current.protocol_version.protocol if current else None
    symptomatic_rows = [
        {
            "treatment": t,
            "notes": interaction_notes(t.drug, protocol) if protocol and not t.stopped_on else [],
        }
        for t in symptomatic
    ]
    return {
        "plans": plans,
        "current_plan": current,
        "planned_plans": planned,
        "open_items": annotate_status(open_items, today),
        "done_items": done_items,
        "results": results,
        "symptomatic_rows": symptomatic_rows,
        "charts": trend_charts(patient, plans=plans, today=today),
    }


def annotate_status(items: list[MonitoringItem], today: date) -> list[MonitoringItem]:
    """Templates cannot call status_on(day): attach the day's status to each row."""
    for item in items:
        item.display_status = item.status_on(today)  # type: ignore[attr-defined]
    return items


def trend_charts(patient: Patient, *, plans: list[DmtPlan], today: date) -> list[dict[str, str]]:
    """One SVG chart per analyte with values, the latest lab range as the reference band."""
    rows = (
        ResultValue.objects.filter(result__patient=patient)
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
        _, _, _, unit, lln, uln = points[-1]
        band = (float(lln), float(uln)) if lln is not None and uln is not None else None
        name = _investigation_name(analyte)
        spec = ChartSpec(
            title=f"{name} ({unit})",
            series=[Series(name, [(p[1], p[2]) for p in points])],
            periods=periods,
            reference_band=band,
            unit=unit,
        )
        charts.append({"analyte": analyte, "name": name, "svg": time_chart(spec, today=today)})
    return charts


def _can_monitor(request: ClinicRequest) -> bool:
    return request.user.role in MONITORING_ROLES


def _can_prescribe(request: ClinicRequest) -> bool:
    return request.user.role in PRESCRIBER_ROLES


# --- plans -----------------------------------------------------------------------------------


@role_required(*PRESCRIBER_ROLES)
@patient_page
def plan_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id)
    form = forms.PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_dmt(
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


def _plan_context(request: ClinicRequest, patient: Patient, plan: DmtPlan) -> dict[str, Any]:
    today = timezone.localdate()
    protocol = plan.protocol_version.protocol
    baseline = services.baseline_status(plan=plan, on=today) if plan.is_planned else []
    guidance = services.washout_for(plan)
    return {
        "patient": patient,
        "plan": plan,
        "protocol": protocol,
        "today": today,
        "baseline": baseline,
        "baseline_complete": all(row.is_satisfied for row in baseline),
        "administrations": list(plan.administrations.all()),
        "guidance": guidance,
        "washout_warning": services.washout_warning(plan=plan, starts_on=today)
        if plan.is_planned
        else "",
        "items": annotate_status(
            list(
                plan.items.select_related("result")
                .prefetch_related("result__values")
                .order_by("due_on", "id")
            ),
            today,
        ),
        "can_monitor": _can_monitor(request),
        "can_prescribe": _can_prescribe(request),
        "start_form": forms.StartForm(initial={"started_on": today}),
        "dose_form": forms.AdministrationForm(
            initial={
                "given_on": today,
                "kind": AdministrationKind.COURSE
                if protocol.has_courses
                else AdministrationKind.DOSE,
            }
        ),
        "suspend_form": forms.ReasonDateForm(initial={"on": today}, prefix="suspend"),
        "resume_form": forms.ReasonDateForm(initial={"on": today}, prefix="resume"),
        "stop_form": forms.StopForm(initial={"stopped_on": today}, prefix="stop"),
        "switch_form": forms.SwitchForm(initial={"stopped_on": today}, prefix="switch"),
        "conditions_form": forms.ConditionsForm(initial={"conditions": plan.conditions}),
        "tick_form": forms.BaselineTickForm(initial={"done_on": today}),
    }


@clinician_required
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
) -> HttpResponse:
    """POST handler shared by the plan's actions: validate, call the service, redirect; on bad
    input re-render the plan page with the bound form and its messages (422)."""
    patient = _patient(request, external_id, action=Action.UPDATE)
    plan = _plan(patient, plan_id)
    form = form_class(request.POST, prefix=prefix)
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
@role_required(*MONITORING_ROLES)
@patient_page
def plan_start(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> str:
        warning = services.washout_warning(plan=plan, starts_on=data["started_on"])
        services.start_dmt_plan(
            plan=plan,
            started_on=data["started_on"],
            override_reason=data["override_reason"],
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
    )


@require_POST
@role_required(*MONITORING_ROLES)
@patient_page
def plan_dose(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        services.record_administration(
            plan=plan,
            kind=data["kind"],
            given_on=data["given_on"],
            note=data["note"],
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
    )


@require_POST
@role_required(*PRESCRIBER_ROLES)
@patient_page
def plan_suspend(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        services.suspend_dmt_plan(
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
@role_required(*PRESCRIBER_ROLES)
@patient_page
def plan_resume(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        services.resume_dmt_plan(
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
@role_required(*PRESCRIBER_ROLES)
@patient_page
def plan_stop(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        services.stop_dmt_plan(
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
@role_required(*PRESCRIBER_ROLES)
@patient_page
def plan_switch(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> DmtPlan:
        return services.switch_dmt_plan(
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
@role_required(*PRESCRIBER_ROLES)
@patient_page
def plan_conditions(request: ClinicRequest, external_id: uuid.UUID, plan_id: int) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        services.update_plan_conditions(plan=plan, conditions=data["conditions"], by=request.user)

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
@role_required(*MONITORING_ROLES)
@patient_page
def plan_baseline_tick(
    request: ClinicRequest, external_id: uuid.UUID, plan_id: int
) -> HttpResponse:
    def act(plan: DmtPlan, data: dict[str, Any]) -> None:
        services.tick_baseline_check(
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


# --- worklist --------------------------------------------------------------------------------


@role_required(*MONITORING_ROLES)
@patient_page
@vary_on_headers("HX-Request")
def worklist(request: ClinicRequest) -> HttpResponse:
    today = timezone.localdate()
    tab = request.GET.get("tab", "due")
    if tab not in WORKLIST_TABS:
        tab = "due"
    patients = visible_patient_ids(request)
    items = MonitoringItem.objects.for_patients(patients)
    queries = {
        "due": items.due_within(on=today),
        "overdue": items.overdue(on=today),
        "booked": items.booked(),
    }
    results = Result.objects.for_patients(patients).to_review()
    counts = {key: qs.count() for key, qs in queries.items()}
    counts["review"] = results.count()
    rows: QuerySet[Any]
    if tab == "review":
        rows = (
            results.select_related("patient")
            .prefetch_related("values")
            .order_by("-is_abnormal", "-taken_on", "id")
        )
    else:
        order = ("booked_on", "due_on", "id") if tab == "booked" else ("due_on", "id")
        rows = queries[tab].select_related("patient", "plan").order_by(*order)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    if tab != "review":
        annotate_status(list(page), today)  # type: ignore[arg-type]
    audit.record_list(
        user=request.user,
        patient_ids=sorted({row.patient_id for row in page}),  # type: ignore[attr-defined]
        category=Category.MONITORING,
        detail=f"worklist {tab}",
    )
    context = {
        "tab": tab,
        "tabs": [(key, label, counts[key]) for key, label in WORKLIST_TABS.items()],
        "page": page,
        "today": today,
        "querystring_prefix": f"tab={tab}&",
        "return_to": request.get_full_path(),
    }
    return render_page(request, "treatments/worklist.html", context, partial="worklist-table")


def _item_for(request: ClinicRequest, item_id: int, action: str = Action.VIEW) -> MonitoringItem:
    try:
        item = (
            MonitoringItem.objects.for_patients(visible_patient_ids(request))
            .select_related("patient", "plan", "result")
            .get(pk=item_id)
        )
    except MonitoringItem.DoesNotExist:
        raise Http404("No such monitoring item.") from None
    audit.record(
        user=request.user,
        patient=item.patient,
        action=action,
        category=Category.MONITORING,
        obj=item,
    )
    return item


@role_required(*MONITORING_ROLES)
@patient_page
def item_detail(request: ClinicRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id)
    return _item_page(request, item)


def _item_page(
    request: ClinicRequest, item: MonitoringItem, *, status: int = 200, **forms_: Any
) -> HttpResponse:
    today = timezone.localdate()
    annotate_status([item], today)
    context = {
        "item": item,
        "today": today,
        "book_form": forms_.get("book_form")
        or forms.BookForm(
            initial={"booked_on": item.booked_on or item.due_on if item.due_on >= today else today}
        ),
        "waive_form": forms_.get("waive_form") or forms.WaiveForm(),
    }
    return render(request, "treatments/item.html", context, status=status)


def _row_response(request: ClinicRequest, item: MonitoringItem, **extra: Any) -> HttpResponse:
    today = timezone.localdate()
    annotate_status([item], today)
    context = {"item": item, "today": today, "return_to": _safe_next(request), **extra}
    return render(request, "treatments/worklist.html#item-row", context)


def _safe_next(request: ClinicRequest) -> str:
    """Where to go back to after an action: only a worklist page of this site."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return next_url if next_url.startswith("/treatments/worklist/") else ""


def _after_item_action(request: ClinicRequest, item: MonitoringItem) -> HttpResponse:
    if request.htmx:
        return _row_response(request, item, done=True)
    next_url = _safe_next(request)
    if next_url:
        return HttpResponseRedirect(next_url)
    return redirect("treatments:item", item_id=item.pk)


@require_POST
@role_required(*MONITORING_ROLES)
@patient_page
def item_book(request: ClinicRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id, Action.UPDATE)
    form = forms.BookForm(request.POST)
    if form.is_valid():
        try:
            services.book_item(item=item, booked_on=form.cleaned_data["booked_on"], by=request.user)
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{item.investigation_name} booked.")
            return _after_item_action(request, item)
    if request.htmx:
        return _row_response(request, item, book_form=form)
    return _item_page(request, item, status=422, book_form=form)


@require_POST
@role_required(*MONITORING_ROLES)
@patient_page
def item_waive(request: ClinicRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id, Action.UPDATE)
    form = forms.WaiveForm(request.POST)
    if form.is_valid():
        try:
            services.waive_item(item=item, reason=form.cleaned_data["reason"], by=request.user)
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{item.investigation_name} waived.")
            return _after_item_action(request, item)
    if request.htmx:
        return _row_response(request, item, waive_form=form)
    return _item_page(request, item, status=422, waive_form=form)


# --- results ---------------------------------------------------------------------------------


@role_required(*MONITORING_ROLES)
@patient_page
def result_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """Record a result, for a monitoring item (?item=) or on its own (?investigation=)."""
    patient = _patient(request, external_id, action=Action.VIEW)
    item = None
    item_id = request.GET.get("item") or request.POST.get("item")
    if item_id:
        try:
            item = MonitoringItem.objects.select_related("plan").get(
                pk=int(item_id), patient=patient
            )
        except (MonitoringItem.DoesNotExist, ValueError):
            raise Http404("No such monitoring item.") from None
    investigation = (
        item.investigation
        if item
        else request.GET.get("investigation") or request.POST.get("investigation", "")
    )
    try:
        get_investigation(investigation)
    except LookupError:
        chooser = forms.ChooseInvestigationForm(request.GET or None)
        return render(
            request, "treatments/result_choose.html", {"patient": patient, "form": chooser}
        )
    today = timezone.localdate()
    form = forms.ResultForm(
        request.POST or None, investigation=investigation, initial={"taken_on": today}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_result(
                patient=patient,
                investigation=investigation,
                item=item,
                taken_on=form.cleaned_data["taken_on"],
                values=form.entered_values(),
                qualitative=form.cleaned_data.get("qualitative") or "",
                index_value=form.cleaned_data.get("index_value"),
                macular_oedema=form.cleaned_data.get("macular_oedema"),
                mri_study_ref=form.cleaned_data.get("mri_study_ref") or "",
                lab=form.cleaned_data["lab"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{_investigation_name(investigation)} result recorded.")
            next_url = request.POST.get("next", "")
            if next_url.startswith("/treatments/") and "//" not in next_url:
                return HttpResponseRedirect(next_url)
            return redirect("treatments:patient", external_id=patient.external_id)
    status = 422 if request.method == "POST" else 200
    context = {
        "patient": patient,
        "item": item,
        "item_status": item.status_on(today) if item else None,
        "investigation": investigation,
        "investigation_name": _investigation_name(investigation),
        "form": form,
        "next": request.GET.get("next") or request.POST.get("next", ""),
    }
    return render(request, "treatments/result_form.html", context, status=status)


@require_POST
@role_required(*MONITORING_ROLES)
@patient_page
def result_review(request: ClinicRequest, result_id: int) -> HttpResponse:
    try:
        result = (
            Result.objects.for_patients(visible_patient_ids(request))
            .select_related("patient")
            .prefetch_related(Prefetch("values"))
            .get(pk=result_id)
        )
    except Result.DoesNotExist:
        raise Http404("No such result.") from None
    form = forms.ReviewForm(request.POST)
    form.is_valid()
    try:
        services.review_result(
            result=result, note=form.cleaned_data.get("note", ""), by=request.user
        )
    except TreatmentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{result.investigation_name} result reviewed.")
    if request.htmx:
        return render(
            request,
            "treatments/worklist.html#result-row",
            {"result": result, "today": timezone.localdate(), "done": True},
        )
    next_url = _safe_next(request)
    if next_url:
        return HttpResponseRedirect(next_url)
    return redirect(reverse("treatments:worklist") + "?tab=review")


# --- symptomatic and relapse treatments ---------------------------------------------------------


@role_required(*MONITORING_ROLES)
@patient_page
def symptomatic_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id)
    form = forms.SymptomaticForm(request.POST or None, initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            treatment = services.record_symptomatic_treatment(
                patient=patient, by=request.user, **form.cleaned_data
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{treatment.drug} recorded.")
            current = (
                DmtPlan.objects.current()
                .filter(patient=patient)
                .select_related("protocol_version")
                .first()
            )
            if current is not None:
                for text, _source in interaction_notes(
                    treatment.drug, current.protocol_version.protocol
                ):
                    messages.warning(request, text)
            return redirect("treatments:patient", external_id=patient.external_id)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "treatments/symptomatic_form.html",
        {"patient": patient, "form": form},
        status=status,
    )


@require_POST
@role_required(*MONITORING_ROLES)
@patient_page
def symptomatic_stop(
    request: ClinicRequest, external_id: uuid.UUID, treatment_id: int
) -> HttpResponse:
    patient = _patient(request, external_id, action=Action.UPDATE)
    try:
        treatment = SymptomaticTreatment.objects.get(pk=treatment_id, patient=patient)
    except SymptomaticTreatment.DoesNotExist:
        raise Http404("No such treatment.") from None
    form = forms.StopSymptomaticForm(request.POST)
    if form.is_valid():
        try:
            services.stop_symptomatic_treatment(
                treatment=treatment, stopped_on=form.cleaned_data["stopped_on"], by=request.user
            )
        except TreatmentError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{treatment.drug} stopped.")
    else:
        messages.error(request, "Give a valid stop date.")
    return redirect("treatments:patient", external_id=patient.external_id)
