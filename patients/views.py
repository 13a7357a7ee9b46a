from __future__ import annotations

import uuid

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from clinic.access import (
    ClinicRequest,
    clinician_required,
    get_patient_for,
    patient_page,
    render_page,
    role_required,
    visible_patients,
)
from clinic.audit import services as audit
from clinic.audit.models import Category


@role_required("neurologist")
@patient_page
def caseload(request: ClinicRequest) -> HttpResponse:
    patients = (
        visible_patients(request).filter(neurologist=request.user).select_related("care_team")
    )
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    audit.record_list(
        user=request.user, patient_ids=[p.pk for p in page], category=Category.DEMOGRAPHICS
    )
    return render_page(request, "patients/caseload.html", {"page": page}, partial="caseload-table")


@clinician_required
@patient_page
def patient_list(request: ClinicRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    patients = visible_patients(request).search(query).select_related("care_team")
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    audit.record_list(
        user=request.user, patient_ids=[p.pk for p in page], category=Category.DEMOGRAPHICS
    )
    return render_page(
        request, "patients/list.html", {"page": page, "query": query}, partial="patient-table"
    )


@clinician_required
@patient_page
def detail(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_patient_for(request, external_id, category=Category.CLINICAL)
    return render(request, "patients/detail.html", {"patient": patient})
