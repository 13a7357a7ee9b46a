"""The aHSCT page: the catalogue's eligibility notes and where the patient stands, the referrals
to a transplant centre with their states, the transplant, and the post-transplant monitoring."""

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
from patients.models import Patient, Referral
from treatments.errors import TreatmentError
from treatments.protocols.drugs.ahsct import ELIGIBILITY_NOTES
from treatments.transplant import services
from treatments.transplant.forms import TransplantForm


def _referrals(patient: Patient) -> Any:
    return Referral.objects.filter(patient=patient, discipline=services.DISCIPLINE).filter(
        state__in=services.ACCEPTED_STATES
    )


def _page(
    request: ClinicRequest,
    patient: Patient,
    *,
    form: TransplantForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    found = services.transplant_page(patient=patient, today=today)
    context = {
        "patient": patient,
        "page": found,
        "notes": ELIGIBILITY_NOTES,
        "discipline": services.DISCIPLINE.value,
        "form": form
        or TransplantForm(
            patient=patient, referrals=_referrals(patient), initial={"transplanted_on": today}
        ),
    }
    return render(request, "transplant/patient.html", context, status=status)


@requires(Perm.PATIENT_VIEW)
@patient_page
def patient(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.TRANSPLANT
    )
    return _page(request, the_patient)


@require_POST
@requires(Perm.TRANSPLANT_RECORD)
@patient_page
def record(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    the_patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.TRANSPLANT,
        action=Action.CREATE,
    )
    form = TransplantForm(request.POST, patient=the_patient, referrals=_referrals(the_patient))
    if form.is_valid():
        try:
            services.record_transplant(patient=the_patient, by=request.user, **form.cleaned_data)
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, "Transplant recorded; its post-transplant monitoring is scheduled."
            )
            return redirect("transplant:patient", external_id=the_patient.external_id)
    return _page(request, the_patient, form=form, status=422)
