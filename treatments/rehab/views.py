from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient, Referral
from patients.models.corrections import link_amendments
from treatments.models import OutcomeMeasurement, RehabSession
from treatments.rehab import services
from treatments.rehab.forms import RehabSessionForm, TherapyPlanForm, measure_forms

SESSIONS_PAGE_SIZE = 20


@requires(Perm.PATIENT_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def patient(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    """Everything rehab for one patient: outcome trends, therapy plans, the session log."""
    the_patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.REHAB
    )
    today = timezone.localdate()
    sessions = (
        RehabSession.objects.filter(patient=the_patient)
        .select_related("therapist", "referral", "corrected_by")
        .prefetch_related(
            Prefetch("measurements", queryset=OutcomeMeasurement.objects.order_by("measure"))
        )
    )
    page = Paginator(sessions, SESSIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    link_amendments(list(page.object_list))
    context = {
        "patient": the_patient,
        "page": page,
        "target": "rehab-sessions",
        "querystring_prefix": "",
    }
    if not request.htmx:
        context["trends"] = services.outcome_trends(patient=the_patient, today=today)
        context["plans"] = services.plans_with_progress(patient=the_patient, today=today)
        context["reported"] = services.patient_reported(patient=the_patient)
    return render_page(request, "rehab/patient.html", context, partial="rehab-sessions")


@requires(Perm.REHAB_SESSION_LOG)
@patient_page
def new_session(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.REHAB,
        # The access is a read; log_session records the creation, only when it saves one (a
        # refused submission is no "Created" in the trail).
        action=Action.VIEW,
    )
    data = request.POST if request.method == "POST" else None
    initial: dict[str, object] = {
        "discipline": request.user.discipline,
        "held_on": timezone.localdate(),
    }
    # "Log a session" from a referral pre-selects it.
    referral_id = request.GET.get("referral", "")
    if _is_uuid(referral_id):
        referral = Referral.objects.filter(patient=the_patient, external_id=referral_id).first()
        if referral is not None:
            initial["referral"] = referral.pk
    form = RehabSessionForm(data, patient=the_patient, initial=initial)
    measures = measure_forms(data)
    if data is not None:
        valid = form.is_valid()
        valid = all([m.is_valid() for m in measures]) and valid
        if valid:
            try:
                session = services.log_session(
                    patient=the_patient,
                    by=request.user,
                    measurements={m.measure.key: m.values() for m in measures if m.values()},
                    **form.cleaned_data,
                )
            except services.RehabRefused as refused:
                form.add_error(None, refused.message)
            else:
                flagged = [m for m in session.measurements.all() if m.is_flagged]
                messages.success(request, "Session logged.")
                for m in flagged:
                    messages.warning(
                        request,
                        f"{m.measure_spec.name}: {m.get_change_display().lower()} "
                        f"({m.threshold_text}).",
                    )
                return redirect("rehab:patient", external_id=the_patient.external_id)
    status = 422 if data is not None else 200
    return render(
        request,
        "rehab/session_form.html",
        {"patient": the_patient, "form": form, "measures": measures},
        status=status,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@requires(Perm.THERAPY_PLAN_MANAGE)
@patient_page
def new_plan(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.REHAB
    )
    initial = {"discipline": request.user.discipline, "starts_on": timezone.localdate()}
    form = TherapyPlanForm(request.POST or None, initial=initial, patient=the_patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_therapy_plan(patient=the_patient, by=request.user, **form.cleaned_data)
        except services.RehabRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, "Therapy plan saved.")
            return redirect("rehab:patient", external_id=the_patient.external_id)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "rehab/plan_form.html", {"patient": the_patient, "form": form}, status=status
    )
