"""The family-planning page: the planner over the current DMT, the teriflunomide levels, and
pregnancies with their end. Each form posts to its own route and comes back to the page."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.family import forms, services


def _patient(request: ClinicRequest, external_id: uuid.UUID, action: str = Action.VIEW) -> Patient:
    patient: Patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.FAMILY_PLANNING,
        action=action,
    )
    return patient


def _page(
    request: ClinicRequest, patient: Patient, *, status: int = 200, **bound: Any
) -> HttpResponse:
    today = timezone.localdate()
    found = services.planner(patient=patient, today=today)
    context: dict[str, Any] = {
        "patient": patient,
        "planner": found,
        "today": today,
        "ongoing_week": found.ongoing.weeks_on(today) if found.ongoing else None,
        "plan_form": bound.get("plan_form")
        or forms.FamilyPlanForm(
            patient=patient,
            initial={
                "intended_conception_on": found.family_plan.intended_conception_on
                if found.family_plan
                else None,
                "breastfeeding_intended": True,
            },
        ),
        "level_form": bound.get("level_form")
        or forms.EliminationLevelForm(patient=patient, initial={"taken_on": today}),
        "pregnancy_form": bound.get("pregnancy_form") or forms.PregnancyForm(patient=patient),
        "end_form": bound.get("end_form")
        or (
            forms.PregnancyEndForm(pregnancy=found.ongoing, initial={"ended_on": today})
            if found.ongoing is not None
            else None
        ),
    }
    return render(request, "family/patient.html", context, status=status)


@requires(Perm.PATIENT_VIEW)
@patient_page
def patient(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    return _page(request, _patient(request, external_id))


@require_POST
@requires(Perm.FAMILY_PLAN_RECORD)
@patient_page
def plan(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = _patient(request, external_id, Action.CREATE)
    form = forms.FamilyPlanForm(request.POST, patient=the_patient)
    if form.is_valid():
        try:
            services.save_family_plan(patient=the_patient, by=request.user, **form.cleaned_data)
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Conception planned: the steps are below.")
            return redirect("family:patient", external_id=the_patient.external_id)
    return _page(request, the_patient, status=422, plan_form=form)


@require_POST
@requires(Perm.FAMILY_PLAN_RECORD)
@patient_page
def level(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = _patient(request, external_id, Action.CREATE)
    form = forms.EliminationLevelForm(request.POST, patient=the_patient)
    family_plan = services.planner(patient=the_patient, today=timezone.localdate()).family_plan
    if form.is_valid():
        try:
            if family_plan is None:
                raise TreatmentError("Plan a conception first.", field="value_mg_l")
            services.record_elimination_level(
                family_plan=family_plan, by=request.user, **form.cleaned_data
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Level recorded.")
            return redirect("family:patient", external_id=the_patient.external_id)
    return _page(request, the_patient, status=422, level_form=form)


@require_POST
@requires(Perm.PREGNANCY_RECORD)
@patient_page
def pregnancy(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = _patient(request, external_id, Action.CREATE)
    form = forms.PregnancyForm(request.POST, patient=the_patient)
    if form.is_valid():
        try:
            _, deferred = services.record_pregnancy(
                patient=the_patient, by=request.user, **form.cleaned_data
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Pregnancy recorded.")
            if deferred:
                messages.info(
                    request,
                    f"{deferred} routine MRI item{'s' if deferred != 1 else ''} deferred until "
                    "after the delivery.",
                )
            return redirect("family:patient", external_id=the_patient.external_id)
    return _page(request, the_patient, status=422, pregnancy_form=form)


@require_POST
@requires(Perm.PREGNANCY_RECORD)
@patient_page
def pregnancy_end(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = _patient(request, external_id, Action.UPDATE)
    ongoing = services.planner(patient=the_patient, today=timezone.localdate()).ongoing
    if ongoing is None:
        messages.error(request, "There is no ongoing pregnancy to end.")
        return redirect("family:patient", external_id=the_patient.external_id)
    form = forms.PregnancyEndForm(request.POST, pregnancy=ongoing)
    if form.is_valid():
        try:
            services.end_pregnancy(pregnancy=ongoing, by=request.user, **form.cleaned_data)
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Recorded. The restart plan is below.")
            return redirect("family:patient", external_id=the_patient.external_id)
    return _page(request, the_patient, status=422, end_form=form)
