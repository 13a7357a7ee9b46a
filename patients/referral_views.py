from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from clinic.access import ClinicRequest, clinician_required


@clinician_required
def board(request: ClinicRequest) -> HttpResponse:
    return render(request, "patients/referral_board.html", {})
