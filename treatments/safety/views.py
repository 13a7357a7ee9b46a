"""Side-effect reports and natalizumab PML risk pages: thin views over `safety_services`."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from patients.models.corrections import link_amendments
from treatments.models import DmtPlan, PmlCategoryChange, PmlProfile, SideEffectReport
from treatments.safety import services as safety_services
from treatments.safety.forms import PmlInputsForm, SideEffectForm
from treatments.safety.services import SafetyError

PAGE_SIZE = 25


def _patient(request: ClinicRequest, external_id: uuid.UUID, action: str) -> Patient:
    return get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.TREATMENT,
        action=action,
    )


def reporting_plan(patient: Patient) -> DmtPlan | None:
    """The plan a new report is about: the current DMT, else the most recent one."""
    plans = DmtPlan.objects.filter(patient=patient).select_related("protocol_version")
    return plans.current().first() or plans.exclude(started_on=None).order_by("-started_on").first()


@vary_on_headers("HX-Request")
@requires(Perm.PATIENT_VIEW, post=Perm.SIDE_EFFECT_REPORT)
@patient_page
def side_effects(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    posting = request.method == "POST"
    # A read: report_side_effect records the creation, only when a report is saved.
    patient = _patient(request, external_id, Action.VIEW)
    plan = reporting_plan(patient)
    listed = plan.protocol_version.protocol.side_effects if plan else ()
    form = SideEffectForm(
        request.POST if posting else None,
        side_effects=listed,
        initial={"onset_on": timezone.localdate()},
        patient=patient,
    )
    if posting and form.is_valid():
        try:
            report = safety_services.report_side_effect(
                patient=patient, plan=plan, by=request.user, **form.cleaned_data
            )
        except SafetyError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, f"Side effect reported (grade {report.ctcae_grade}); the team is alerted."
            )
            return redirect("safety:side_effects", external_id=patient.external_id)
    reports = SideEffectReport.objects.filter(patient=patient).select_related(
        "reported_by", "corrected_by"
    )
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    link_amendments(list(page.object_list))
    context = {
        "patient": patient,
        "plan": plan,
        "form": form,
        "page": page,
    }
    if getattr(request, "htmx", False) and not posting:
        return render(request, "treatments/side_effects.html#side-effect-list", context)
    return render(request, "treatments/side_effects.html", context, status=422 if posting else 200)


@requires(Perm.PATIENT_VIEW, post=Perm.PML_INPUTS_EDIT)
@patient_page
def pml_risk(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    posting = request.method == "POST"
    patient = _patient(request, external_id, Action.UPDATE if posting else Action.VIEW)
    plan = safety_services.natalizumab_plan(patient.pk)
    profile = PmlProfile.objects.filter(plan=plan).first() if plan else None
    form = PmlInputsForm(
        request.POST if posting else None,
        initial={
            "prior_immunosuppressant": profile.prior_immunosuppressant if profile else "unknown",
            "extended_interval_dosing": profile.extended_interval_dosing if profile else False,
        },
    )
    if posting and plan is not None and form.is_valid():
        try:
            safety_services.update_pml_inputs(plan=plan, by=request.user, **form.cleaned_data)
        except SafetyError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "PML risk inputs saved and the category recomputed.")
            return redirect("safety:pml", external_id=patient.external_id)
    changes = list(PmlCategoryChange.objects.filter(plan=plan)) if plan else []
    context = {
        "patient": patient,
        "plan": plan,
        "profile": profile,
        "changes": changes,
        "form": form,
    }
    return render(
        request, "treatments/side_effect_pml.html", context, status=422 if posting else 200
    )
