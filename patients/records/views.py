from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Category
from clinic.permissions import Perm, requires
from patients.models import EmergencyAccess, Patient
from patients.records import services, timeline
from patients.records.charts import ChartSpec, Marker, Series, patient_axis, time_chart
from patients.records.forms import (
    CourseStateForm,
    EdssForm,
    MriForm,
    PatientForm,
    RelapseForm,
)

PAGE_SIZE = 25


def _apply_service_errors(form: BaseForm, error: ValidationError) -> None:
    """Put a service's field-keyed errors next to the form's fields."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# ---------------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------------


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def patient_list(request: ClinicRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    # The user's own teams' patients; those opened by emergency access are listed apart.
    patients = (
        Patient.objects.editable_by(request.user)
        .search(query)
        .select_related("care_team", "neurologist")
    )
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    emergency = [] if request.htmx else list(EmergencyAccess.objects.opening_for(request.user))
    audit.record_list(
        user=request.user,
        patient_ids=[p.pk for p in page] + [g.patient_id for g in emergency if g.patient_id],
        category=Category.DEMOGRAPHICS,
    )
    prefix = f"q={query}&" if query else ""
    return render_page(
        request,
        "patients/list.html",
        {"page": page, "query": query, "querystring_prefix": prefix, "emergency": emergency},
        partial="patient-table",
    )


# ---------------------------------------------------------------------------------------------
# The patient record
# ---------------------------------------------------------------------------------------------


@requires(Perm.PATIENT_CREATE)
@patient_page
@require_http_methods(["GET", "POST"])
def patient_create(request: ClinicRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        patient = services.create_patient(patient=form.save(commit=False), by=request.user)
        messages.success(request, "Patient record created.")
        return redirect(patient.get_absolute_url())
    status = 422 if form.is_bound else 200
    return render(request, "patients/patient_form.html", {"form": form}, status=status)


@requires(Perm.PATIENT_EDIT)
@patient_page
@require_http_methods(["GET", "POST"])
def patient_edit(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.DEMOGRAPHICS
    )
    form = PatientForm(request.POST or None, instance=patient, user=request.user)
    if request.method == "POST" and form.is_valid():
        changed = form.save(commit=False)
        note = request.POST.get("status_note", "").strip()[:200]
        # Deceased or transferred: first show what it stops, save only once confirmed (the
        # confirmation re-posts the same form with the status it confirms).
        confirmed = request.POST.get("confirm_status") == changed.status
        if "status" in form.changed_data and changed.status != "active" and not confirmed:
            context = {
                "patient": changed,
                "consequences": services.status_consequences(changed, by=request.user),
                "fields": [
                    (name, value)
                    for name, values in request.POST.lists()
                    if name not in ("csrfmiddlewaretoken", "confirm_status", "status_note")
                    for value in values
                ],
            }
            return render(request, "patients/status_confirm.html", context)
        services.update_patient(
            patient=changed,
            changed=form.changed_data,
            by=request.user,
            status_confirmed=confirmed,
            status_note=note,
        )
        messages.success(request, "Patient record saved.")
        return redirect(patient.get_absolute_url())
    status = 422 if form.is_bound else 200
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient}, status=status
    )


# ---------------------------------------------------------------------------------------------
# The patient page
# ---------------------------------------------------------------------------------------------


def edss_chart(patient: Patient, history: services.ClinicalHistory) -> str:
    today = timezone.localdate()
    periods = timeline.periods_for(patient)
    spec = ChartSpec(
        title="EDSS over time",
        series=[
            Series("EDSS", [(a.assessed_on, Decimal(a.step)) for a in history.edss]),
        ],
        periods=periods,
        markers=[Marker(r.onset_on, f"Relapse {r.onset_on:%d %b %Y}") for r in history.relapses],
        # The outcome-measure charts share this axis (treatments.rehab.services).
        axis=patient_axis(
            [a.assessed_on for a in history.edss],
            [r.onset_on for r in history.relapses],
            periods,
            today,
        ),
        y_min=0,
        y_max=10,
        y_step=1,
    )
    return time_chart(spec, today=today)


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def detail(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    today = timezone.localdate()
    patient = get_scoped_or_404(
        request,
        timeline.with_header(
            Patient.objects.visible_to(request.user)
            .with_emergency_access(request.user)
            .select_related("care_team", "neurologist", "nurse"),
            today,
        ),
        external_id=external_id,
        category=Category.CLINICAL,
    )
    history = services.clinical_history(patient)
    progressions = history.labelled_progressions()
    context: dict[str, Any] = {
        "patient": patient,
        "today": today,
        "age": patient.age_on(today),
        "header_facts": timeline.header_facts(patient, today),
        "history": history,
        "progressions": progressions,
        "latest_progression": progressions[-1] if progressions else None,
        "neda_years": history.neda_years(today=today),
        "close_relapse_ids": history.close_relapse_ids(),
        "chart": edss_chart(patient, history),
        # Drawn as slots the browser fills in parallel (see patients.records.timeline).
        "panel_slots": timeline.panel_slots(),
        "recent_relapse": patient.had_recent_relapse(today),
        # An emergency grant is read-only: no buttons for changes it would refuse.
        "read_only": bool(patient.emergency_until),
    }
    return render(request, "patients/detail.html", context)


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def panel(request: ClinicRequest, external_id: uuid.UUID, key: str) -> HttpResponse:
    """One contributed panel of the patient page: swapped into its slot by htmx, or shown as a
    page of its own (the slot's link when JavaScript is off)."""
    slot = timeline.panel_slot(key)
    if slot is None:
        raise Http404("No such panel.")
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=slot.category
    )
    content = timeline.panel_for(request, patient, key)
    context = {
        "patient": patient,
        "slot": slot,
        "panel_html": render_to_string(content.template, content.context, request=request),
    }
    return render_page(request, "patients/panel.html", context, partial="panel")


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def patient_timeline(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """Everything that happened to the patient, newest first, from every app's sources."""
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    context = {"patient": patient, "timeline": timeline.timeline_for(patient)}
    return render_page(request, "patients/timeline.html", context, partial="timeline")


# ---------------------------------------------------------------------------------------------
# Recording the clinical picture. Each form is its own page (works without JavaScript); a
# valid POST calls the service and returns to the patient page at the changed section.
# ---------------------------------------------------------------------------------------------


def _record_page(
    request: ClinicRequest,
    *,
    patient: Patient,
    form: BaseForm,
    template: str,
    title: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    status = 422 if form.is_bound else 200
    context = {"patient": patient, "form": form, "title": title, **(extra or {})}
    return render(request, template, context, status=status)


def _section_url(patient: Patient, section: str) -> str:
    return f"{patient.get_absolute_url()}#{section}"


@requires(Perm.COURSE_RECORD)
@patient_page
@require_http_methods(["GET", "POST"])
def course_add(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    form = CourseStateForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_course_state(patient=patient, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Disease course recorded.")
            return redirect(_section_url(patient, "course-section"))
    return _record_page(
        request,
        patient=patient,
        form=form,
        template="patients/record_form.html",
        title="Record a disease course",
    )


@requires(Perm.EDSS_RECORD)
@patient_page
@require_http_methods(["GET", "POST"])
def edss_add(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    form = EdssForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.record_edss(
                patient=patient,
                assessed_on=form.cleaned_data["assessed_on"],
                scores=form.scores,
                by=request.user,
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"EDSS {assessment.step} recorded. {assessment.rule}")
            for warning in assessment.inconsistencies:
                messages.warning(request, f"Check: {warning}")
            return redirect(_section_url(patient, "edss-section"))
    return _record_page(
        request,
        patient=patient,
        form=form,
        template="patients/edss_form.html",
        title="Record an EDSS",
        extra={"result": form.result if form.is_bound else None},
    )


@requires(Perm.EDSS_RECORD)
@patient_page
@require_http_methods(["POST"])
def edss_preview(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """The computed step as the user types (htmx); nothing is saved."""
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    form = EdssForm(request.POST, patient=patient)
    result = form.preview()
    return render(
        request,
        "patients/edss_form.html#edss-result",
        {"patient": patient, "form": form, "result": result, "preview": True},
    )


@requires(Perm.RELAPSE_RECORD)
@patient_page
@require_http_methods(["GET", "POST"])
def relapse_add(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    form = RelapseForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.record_relapse(
                patient=patient, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Relapse recorded.")
            for warning in recorded.warnings:
                messages.warning(request, warning)
            return redirect(_section_url(patient, "relapse-section"))
    return _record_page(
        request,
        patient=patient,
        form=form,
        template="patients/record_form.html",
        title="Record a relapse",
    )


@requires(Perm.MRI_RECORD)
@patient_page
@require_http_methods(["GET", "POST"])
def mri_add(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    form = MriForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_mri(patient=patient, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "MRI study recorded.")
            return redirect(_section_url(patient, "mri-section"))
    return _record_page(
        request,
        patient=patient,
        form=form,
        template="patients/record_form.html",
        title="Record an MRI study",
    )
