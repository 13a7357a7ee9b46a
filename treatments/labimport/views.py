"""Lab import pages: the review queue (nurses and neurologists), uploads (and the clinic admin),
the message log, and the admin's table of laboratory codes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, may, requires
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.labimport import codes as code_table
from treatments.labimport import forms, services
from treatments.labimport import review as review_queue
from treatments.labimport.matching import target_choices, unknown_codes
from treatments.labimport.report import LabReport, ParseProblem
from treatments.models import (
    Channel,
    InboundMessage,
    LabCodeMapping,
    MessageState,
    ReviewItem,
)

# --- the review queue ------------------------------------------------------------------------


@requires(Perm.LAB_REVIEW)
@patient_page
@vary_on_headers("HX-Request")
def queue(request: ClinicRequest) -> HttpResponse:
    items = (
        ReviewItem.objects.visible_to(request.user)
        .open()
        .select_related("message", "patient")
        .order_by("opened_at", "id")
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    audit.record_list(
        user=request.user,
        patient_ids=sorted({i.patient_id for i in page if i.patient_id}),
        category=Category.MONITORING,
        detail="lab review queue",
    )
    context = {"page": page, "target": "queue-table", "querystring_prefix": ""}
    return render_page(request, "treatments/labs/queue.html", context, partial="queue-table")


def _review_item(request: ClinicRequest, review_id: int, action: str) -> ReviewItem:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        ReviewItem.objects.select_related("message", "patient", "closed_by"),
        pk=review_id,
        category=Category.MONITORING,
        action=action,
    )


def _report(item: ReviewItem) -> tuple[LabReport | None, str]:
    try:
        return review_queue.parsed_report(item.message), ""
    except ParseProblem as problem:
        return None, problem.message


@requires(Perm.LAB_REVIEW)
@patient_page
def review(request: ClinicRequest, review_id: int) -> HttpResponse:
    """A held message: what it says, why it is held; match it by hand, or reject it."""
    action = Action.UPDATE if request.method == "POST" else Action.VIEW
    item = _review_item(request, review_id, action)
    report, unreadable = _report(item)
    codes = unknown_codes(report, services.code_book()) if report else []
    form = forms.ResolveForm(
        request.POST or None,
        codes=codes,
        initial={"mrn": item.patient.mrn if item.patient else ""},
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            status = _resolve(request, item, form)
            if status == 302:
                return redirect("labimport:queue")
    context = {
        "item": item,
        "report": report,
        "unreadable": unreadable,
        "form": form,
        "reject_form": forms.RejectForm(),
    }
    return render(request, "treatments/labs/review.html", context, status=status)


def _resolve(request: ClinicRequest, item: ReviewItem, form: forms.ResolveForm) -> int:
    patient = None
    mrn = form.cleaned_data["mrn"]
    if mrn:
        patient = Patient.objects.visible_to(request.user).filter(mrn=mrn).first()
        if patient is None:
            form.add_error("mrn", "None of your care teams' patients has this MRN.")
            return 422
    try:
        message = review_queue.resolve_review(
            item=item,
            by=request.user,
            patient=patient,
            code_choices=form.code_choices(),
            note=form.cleaned_data["note"],
        )
    except TreatmentError as error:
        form.add_service_error(error)
        return 422
    if message.state == MessageState.IMPORTED:
        messages.success(request, f"Imported {message.results_count} result(s).")
        return 302
    item.refresh_from_db()
    form.add_error(None, f"Still held: {message.reason}")
    return 422


@require_POST
@requires(Perm.LAB_REVIEW)
@patient_page
def reject(request: ClinicRequest, review_id: int) -> HttpResponse:
    item = _review_item(request, review_id, Action.UPDATE)
    form = forms.RejectForm(request.POST)
    if form.is_valid():
        try:
            review_queue.reject_review(
                item=item, by=request.user, reason=form.cleaned_data["reason"]
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Message rejected.")
            return redirect("labimport:queue")
    report, unreadable = _report(item)
    context = {
        "item": item,
        "report": report,
        "unreadable": unreadable,
        "form": forms.ResolveForm(codes=[]),
        "reject_form": form,
    }
    return render(request, "treatments/labs/review.html", context, status=422)


# --- uploads and the message log -------------------------------------------------------------


@requires(Perm.LAB_UPLOAD)
@patient_page
def upload(request: ClinicRequest) -> HttpResponse:
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    summaries: list[services.Summary] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            for text in form.cleaned_data["texts"]:
                summaries.append(
                    services.receive(
                        text=text,
                        channel=Channel.UPLOAD,
                        by=request.user,
                        lab=form.cleaned_data["lab"],
                        dry_run=form.cleaned_data["dry_run"],
                    )
                )
        else:
            status = 422
    outcomes = [o for s in summaries for o in s.outcomes]
    context = {
        "form": form,
        "outcomes": outcomes,
        "dry_run": bool(summaries) and summaries[0].dry_run,
        "totals": {
            "imported": sum(s.count(MessageState.IMPORTED) for s in summaries),
            "queued": sum(s.count(MessageState.QUEUED) for s in summaries),
            "duplicates": sum(s.duplicates for s in summaries),
            "results": sum(s.results for s in summaries),
        },
        "can_review": may(request.user, Perm.LAB_REVIEW),
    }
    return render(request, "treatments/labs/upload.html", context, status=status)


@requires(Perm.LAB_UPLOAD)
@patient_page
@vary_on_headers("HX-Request")
def message_log(request: ClinicRequest) -> HttpResponse:
    """Every message received, newest first: sender, control id, state, reason, answer. No
    patient data, so the clinic admin can follow the interface."""
    state = request.GET.get("state", "")
    rows = InboundMessage.objects.only(
        "received_at",
        "channel",
        "format",
        "sending_facility",
        "control_id",
        "state",
        "problem",
        "reason",
        "results_count",
        "ack_code",
    ).order_by("-received_at", "-id")
    if state in MessageState.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "states": MessageState.choices,
        "target": "message-table",
        "querystring_prefix": f"state={state}&" if state else "",
    }
    return render_page(request, "treatments/labs/messages.html", context, partial="message-table")


# --- the code table --------------------------------------------------------------------------


@requires(Perm.CATALOGUE_SETTINGS)
def codes(request: ClinicRequest) -> HttpResponse:
    form = forms.MappingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                code_table.save_mapping(by=request.user, **form.cleaned_data)
            except TreatmentError as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Code {form.cleaned_data['code'].upper()} saved.")
                return redirect("labimport:codes")
    context: dict[str, Any] = {
        "form": form,
        "mappings": LabCodeMapping.objects.select_related("updated_by"),
        "targets": dict(target_choices()),
    }
    return render(request, "treatments/labs/codes.html", context, status=status)


@require_POST
@requires(Perm.CATALOGUE_SETTINGS)
def code_delete(request: ClinicRequest, mapping_id: int) -> HttpResponse:
    mapping = get_object_or_404(LabCodeMapping, pk=mapping_id)
    code_table.delete_mapping(mapping=mapping, by=request.user)
    messages.success(request, f"Code {mapping.code} removed.")
    return redirect("labimport:codes")
