"""The infusion day's pages: the day view for the team, opening a checklist for a patient, and
the checklist itself (save as you go; record the infusion when it is complete)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.infusions import forms
from treatments.infusions import services as infusions
from treatments.models import DmtPlan, InfusionState, InfusionVisit
from treatments.plans import gates as plan_gates
from treatments.plans.forms import dose_entry


@requires(Perm.INFUSION_CHECKLIST)
@patient_page
@vary_on_headers("HX-Request")
def infusion_day(request: ClinicRequest) -> HttpResponse:
    form = forms.DayForm(request.GET or None)
    day = timezone.localdate()
    if form.is_valid() and form.cleaned_data["on"]:
        day = form.cleaned_data["on"]
    visits = list(
        InfusionVisit.objects.visible_to(request.user)
        .on(day)
        .exclude(state=InfusionState.CANCELLED)
        .select_related("patient", "plan", "recorded_by")
        .order_by("patient__family_name", "id")
    )
    audit.record_list(
        user=request.user,
        patient_ids=sorted({visit.patient_id for visit in visits}),
        category=Category.INFUSION,
        detail="infusion day",
    )
    return render(
        request,
        "treatments/infusion_day.html",
        {"form": form, "day": day, "visits": visits},
        status=400 if form.errors else 200,
    )


def _infusion_plan(patient: Patient) -> DmtPlan | None:
    plan = (
        DmtPlan.objects.current().filter(patient=patient).select_related("protocol_version").first()
    )
    if plan is None or infusions.infusion_day_of(plan) is None:
        return None
    return plan


@requires(Perm.INFUSION_CHECKLIST)
@patient_page
def infusion_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.INFUSION,
        action=Action.CREATE if request.method == "POST" else Action.VIEW,
    )
    plan = _infusion_plan(patient)
    courses = bool(plan and plan.protocol_version.protocol.has_courses)
    form = forms.NewVisitForm(
        request.POST if request.method == "POST" else None,
        initial={"infusion_on": timezone.localdate(), "course_day": 1},
        courses=courses,
        patient=patient,
    )
    if plan is None and request.method == "POST":
        form.is_valid()  # the refusal goes with the form's own messages (a bound form)
        form.add_error(None, "This patient has no active plan of a drug given as an infusion.")
    elif plan is not None and request.method == "POST" and form.is_valid():
        try:
            visit = infusions.open_visit(
                plan=plan,
                infusion_on=form.cleaned_data["infusion_on"],
                course_day=form.cleaned_data.get("course_day"),
                by=request.user,
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            return redirect("treatments:infusion_visit", visit_id=visit.pk)
    return render(
        request,
        "treatments/infusion_new.html",
        {"patient": patient, "plan": plan, "form": form},
        status=422 if request.method == "POST" else 200,
    )


def _visit(request: ClinicRequest, visit_id: int) -> InfusionVisit:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        InfusionVisit.objects.select_related(
            "patient", "plan__protocol_version", "recorded_by", "administration"
        ),
        pk=visit_id,
        category=Category.INFUSION,
        action=Action.UPDATE if request.method == "POST" else Action.VIEW,
    )


def _checklist_form(
    request: ClinicRequest, visit: InfusionVisit, *, data: Any = None, strict: bool = False
) -> forms.ChecklistForm:
    day = infusions.infusion_day_of(visit.plan)
    assert day is not None  # a visit is only opened for an infusion drug
    return forms.ChecklistForm(
        data,
        initial=forms.ChecklistForm.initial_from(infusions.ChecklistEntry.of(visit), day),
        day=day,
        course_day=visit.course_day,
        infusion_number=infusions.infusion_number(visit),
        strict=strict,
        patient=visit.patient,
        can_override=plan_gates.may_override(request.user),
        by_bsa=visit.plan.protocol_version.protocol.bsa_dosing,
    )


def _visit_page(
    request: ClinicRequest, visit: InfusionVisit, form: forms.ChecklistForm, status: int = 200
) -> HttpResponse:
    day = infusions.infusion_day_of(visit.plan)
    context: dict[str, Any] = {
        "visit": visit,
        "patient": visit.patient,
        "plan": visit.plan,
        "day": day,
        "form": form,
        "missing": infusions.missing_items(visit) if visit.is_open else [],
        "day_url": reverse("treatments:infusion_day") + f"?on={visit.infusion_on:%Y-%m-%d}",
    }
    return render(request, "treatments/infusion_visit.html", context, status=status)


@requires(Perm.INFUSION_CHECKLIST)
@patient_page
def infusion_visit(request: ClinicRequest, visit_id: int) -> HttpResponse:
    visit = _visit(request, visit_id)
    if request.method != "POST":
        return _visit_page(request, visit, _checklist_form(request, visit))
    recording = "record" in request.POST
    form = _checklist_form(request, visit, data=request.POST, strict=recording)
    if not form.is_valid():
        return _visit_page(request, visit, form, status=422)
    try:
        infusions.save_checklist(visit=visit, entry=form.entry(), by=request.user)
        if recording:
            infusions.record_infusion(
                visit=visit,
                override_reason=form.cleaned_data.get("override_reason") or "",
                dose=dose_entry(form.cleaned_data),
                by=request.user,
            )
    except TreatmentError as error:
        form.add_service_error(error)
        visit.refresh_from_db()
        return _visit_page(request, visit, form, status=422)
    if recording:
        messages.success(request, f"{visit.plan.drug_name} infusion recorded; monitoring updated.")
        return redirect(reverse("treatments:infusion_day") + f"?on={visit.infusion_on:%Y-%m-%d}")
    messages.success(request, "Checklist saved.")
    return redirect("treatments:infusion_visit", visit_id=visit.pk)
