from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page, safe_next
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404, refuse_read_only
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.models import (
    MonitoringItem,
    Result,
    ResultValue,
    TriageCall,
)
from treatments.monitoring import forms
from treatments.monitoring import services as monitoring_services
from treatments.protocols import (
    get_investigation,
    investigation_name,
)

WORKLIST_TABS = {
    "due": "Due this week",
    "overdue": "Overdue",
    "booked": "Booked, awaiting result",
    "review": "Results to review",
    "triage": "Relapse triage calls",
}


# --- worklist --------------------------------------------------------------------------------


def _worklist_sets(request: ClinicRequest, today: date) -> tuple[dict[str, Any], Any]:
    """The three item tabs' querysets, the open triage calls and the results to review, for the
    user's teams."""
    patients = Patient.objects.visible_ids(request.user)
    items = MonitoringItem.objects.for_patients(patients)
    queries = {
        "due": items.due_within(on=today),
        "overdue": items.overdue(on=today),
        "booked": items.booked(),
        "triage": TriageCall.objects.for_patients(patients).open(),
    }
    return queries, Result.objects.for_patients(patients).to_review()


def _tabs(queries: dict[str, Any], results: Any) -> list[tuple[str, str, int]]:
    """Each tab with its count (one statement per tab: the worklist's query budget)."""
    counts = {key: qs.count() for key, qs in queries.items()}
    counts["review"] = results.count()
    return [(key, label, counts[key]) for key, label in WORKLIST_TABS.items()]


@requires(Perm.WORKLIST_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def worklist(request: ClinicRequest) -> HttpResponse:
    today = timezone.localdate()
    tab = request.GET.get("tab", "due")
    if tab not in WORKLIST_TABS:
        tab = "due"
    queries, results = _worklist_sets(request, today)
    tabs = _tabs(queries, results)
    calls = queries["triage"]
    rows: QuerySet[Any]
    if tab == "triage":
        # The clocks first, the one closest to (or furthest past) its target on top.
        rows = calls.select_related("patient").order_by(
            F("due_at").asc(nulls_last=True), "called_at", "id"
        )
    elif tab == "review":
        rows = (
            results.select_related("patient")
            .prefetch_related("values")
            .order_by("-is_abnormal", "-taken_on", "id")
        )
    else:
        order = ("booked_on", "due_on", "id") if tab == "booked" else ("due_on", "id")
        rows = queries[tab].select_related("patient", "plan").order_by(*order)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    if tab == "triage":
        now = timezone.now()
        call: Any
        for call in page:
            call.clock_text = call.clock(now)
            call.breached = call.is_breached(now)
    elif tab != "review":
        MonitoringItem.annotate_status(list(page), today)  # type: ignore[arg-type]
    audit.record_list(
        user=request.user,
        patient_ids=sorted({row.patient_id for row in page}),  # type: ignore[attr-defined]
        category=Category.TRIAGE if tab == "triage" else Category.MONITORING,
        detail=f"worklist {tab}",
    )
    context = {
        "tab": tab,
        "tabs": tabs,
        "page": page,
        "today": today,
        "querystring_prefix": f"tab={tab}&",
        "return_to": request.get_full_path(),
    }
    return render_page(request, "treatments/worklist.html", context, partial="worklist-table")


def _with_fresh_tabs(request: ClinicRequest, row: HttpResponse) -> HttpResponse:
    """A row changed in place (booked, waived, reviewed) moves between tabs: the tab counts
    come with it, swapped out of band, so they never go stale."""
    shown = parse_qs(urlsplit(safe_next(request)).query).get("tab", [""])[0]
    tab = shown if shown in WORKLIST_TABS else "due"
    context = {
        "tab": tab,
        "tabs": _tabs(*_worklist_sets(request, timezone.localdate())),
        "oob": True,
    }
    tabs = render(request, "treatments/worklist.html#worklist-tabs", context)
    row.content = row.content + tabs.content
    return row


def _item_for(request: ClinicRequest, item_id: int, action: str = Action.VIEW) -> MonitoringItem:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        MonitoringItem.objects.select_related("patient", "plan", "result").prefetch_related(
            Prefetch(
                "result__values", queryset=ResultValue.objects.select_related("reference_range")
            )
        ),
        pk=item_id,
        category=Category.MONITORING,
        action=action,
    )


@requires(Perm.WORKLIST_VIEW)
@patient_page
def item_detail(request: ClinicRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id)
    return _item_page(request, item)


def _item_page(
    request: ClinicRequest, item: MonitoringItem, *, status: int = 200, **forms_: Any
) -> HttpResponse:
    today = timezone.localdate()
    MonitoringItem.annotate_status([item], today)
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
    MonitoringItem.annotate_status([item], today)
    context = {"item": item, "today": today, "return_to": safe_next(request), **extra}
    status = 422 if any(f.errors for f in extra.values() if hasattr(f, "errors")) else 200
    row = render(request, "treatments/worklist.html#item-row", context, status=status)
    return row if status != 200 else _with_fresh_tabs(request, row)


def _after_item_action(request: ClinicRequest, item: MonitoringItem) -> HttpResponse:
    if request.htmx:
        return _row_response(request, item, done=True)
    next_url = safe_next(request)
    if next_url:
        return HttpResponseRedirect(next_url)
    return redirect("treatments:item", item_id=item.pk)


@require_POST
@requires(Perm.ITEM_BOOK)
@patient_page
def item_book(request: ClinicRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id, Action.UPDATE)
    form = forms.BookForm(request.POST)
    if form.is_valid():
        try:
            monitoring_services.book_item(
                item=item, booked_on=form.cleaned_data["booked_on"], by=request.user
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{item.investigation_name} booked.")
            return _after_item_action(request, item)
    if request.htmx:
        return _row_response(request, item, book_form=form)
    return _item_page(request, item, status=422, book_form=form)


@require_POST
@requires(Perm.ITEM_WAIVE)
@patient_page
def item_waive(request: ClinicRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id, Action.UPDATE)
    form = forms.WaiveForm(request.POST)
    if form.is_valid():
        try:
            monitoring_services.waive_item(
                item=item, reason=form.cleaned_data["reason"], by=request.user
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{item.investigation_name} waived.")
            return _after_item_action(request, item)
    if request.htmx:
        return _row_response(request, item, waive_form=form)
    return _item_page(request, item, status=422, waive_form=form)


# --- results ---------------------------------------------------------------------------------


@requires(Perm.RESULT_RECORD)
@patient_page
def result_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """Record a result, for a monitoring item (?item=) or on its own (?investigation=)."""
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.TREATMENT,
        action=Action.VIEW,
    )
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
        request.POST or None,
        investigation=investigation,
        initial={"taken_on": today},
        patient=patient,
    )
    if request.method == "POST" and form.is_valid():
        try:
            monitoring_services.record_result(
                patient=patient,
                investigation=investigation,
                item=item,
                taken_on=form.cleaned_data["taken_on"],
                values=form.entered_values(),
                qualitative=form.cleaned_data.get("qualitative") or "",
                genotype=form.cleaned_data.get("genotype") or "",
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
            messages.success(request, f"{investigation_name(investigation)} result recorded.")
            next_url = safe_next(request)
            if next_url:
                return HttpResponseRedirect(next_url)
            return redirect("treatments:patient", external_id=patient.external_id)
    status = 422 if request.method == "POST" else 200
    context = {
        "patient": patient,
        "item": item,
        "item_status": item.status_on(today) if item else None,
        "investigation": investigation,
        "investigation_name": investigation_name(investigation),
        "form": form,
        "next": request.GET.get("next") or request.POST.get("next", ""),
    }
    return render(request, "treatments/result_form.html", context, status=status)


@require_POST
@requires(Perm.RESULT_REVIEW)
@patient_page
def result_review(request: ClinicRequest, result_id: int) -> HttpResponse:
    try:
        result = (
            Result.objects.visible_to(request.user)
            .standing()
            .select_related("patient")
            .prefetch_related(Prefetch("values"))
            .get(pk=result_id)
        )
    except Result.DoesNotExist:
        raise Http404("No such result.") from None
    refuse_read_only(request, Result.objects, result)  # an emergency grant changes nothing
    form = forms.ReviewForm(request.POST)
    form.is_valid()
    try:
        monitoring_services.review_result(
            result=result, note=form.cleaned_data.get("note", ""), by=request.user
        )
    except TreatmentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{result.investigation_name} result reviewed.")
    if request.htmx:
        row = render(
            request,
            "treatments/worklist.html#result-row",
            {"result": result, "today": timezone.localdate(), "done": True},
        )
        return _with_fresh_tabs(request, row)
    next_url = safe_next(request)
    if next_url:
        return HttpResponseRedirect(next_url)
    return redirect(reverse("treatments:worklist") + "?tab=review")
