"""The patient summary: a printable page and the same summary as a PDF (WeasyPrint)."""

from __future__ import annotations

import logging
import uuid

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.access import ClinicRequest, patient_page
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.summary.services import patient_summary

logger = logging.getLogger("myelin.summary")


def _patient(request: ClinicRequest, external_id: uuid.UUID, action: str) -> Patient:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        Patient.objects.select_related("care_team", "neurologist", "nurse"),
        external_id=external_id,
        category=Category.CLINICAL,
        action=action,
    )


@requires(Perm.PATIENT_VIEW)
@patient_page
def summary(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id, Action.VIEW)
    context = {"summary": patient_summary(patient=patient, on=timezone.localdate())}
    return render(request, "treatments/summary.html", context)


@requires(Perm.PATIENT_VIEW)
@patient_page
def summary_pdf(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = _patient(request, external_id, Action.EXPORT)
    context = {
        "summary": patient_summary(patient=patient, on=timezone.localdate()),
        "printed_by": request.user.display_name,
        "printed_at": timezone.localtime(),
    }
    html = render_to_string("treatments/summary_pdf.html", context, request=request)
    try:
        from weasyprint import HTML
    except OSError:  # the system's Pango libraries are missing
        logger.error("PDF rendering is unavailable: WeasyPrint cannot load its libraries")
        return HttpResponse(
            "PDF export is not available on this server. Print the summary page instead.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    # No name or MRN in the file name: downloads folders and mail attachments outlive the visit.
    response["Content-Disposition"] = (
        f'attachment; filename="patient-summary-{timezone.localdate():%Y-%m-%d}.pdf"'
    )
    return response
