from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.errors import TreatmentError
from treatments.models import (
    DmtPlan,
    SymptomaticTreatment,
)
from treatments.symptomatic import forms
from treatments.symptomatic import services as symptomatic_services
from treatments.symptomatic.interactions import interaction_notes

# --- symptomatic and relapse treatments ---------------------------------------------------------


@requires(Perm.SYMPTOMATIC_RECORD)
@patient_page
def symptomatic_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.TREATMENT
    )
    form = forms.SymptomaticForm(
        request.POST or None, initial={"started_on": timezone.localdate()}, patient=patient
    )
    if request.method == "POST" and form.is_valid():
        try:
            treatment = symptomatic_services.record_symptomatic_treatment(
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
            others = (
                SymptomaticTreatment.objects.standing()
                .filter(patient=patient, stopped_on__isnull=True)
                .exclude(pk=treatment.pk)
                .values_list("drug", flat=True)
            )
            protocol = current.protocol_version.protocol if current is not None else None
            for text, _source in interaction_notes(treatment.drug, protocol, others=others):
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
@requires(Perm.SYMPTOMATIC_STOP)
@patient_page
def symptomatic_stop(
    request: ClinicRequest, external_id: uuid.UUID, treatment_id: int
) -> HttpResponse:
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.TREATMENT,
        action=Action.UPDATE,
    )
    try:
        treatment = SymptomaticTreatment.objects.get(pk=treatment_id, patient=patient)
    except SymptomaticTreatment.DoesNotExist:
        raise Http404("No such treatment.") from None
    form = forms.StopSymptomaticForm(request.POST, patient=patient)
    if form.is_valid():
        try:
            symptomatic_services.stop_symptomatic_treatment(
                treatment=treatment, stopped_on=form.cleaned_data["stopped_on"], by=request.user
            )
        except TreatmentError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{treatment.drug} stopped.")
    else:
        messages.error(request, "Give a valid stop date.")
    return redirect("treatments:patient", external_id=patient.external_id)
