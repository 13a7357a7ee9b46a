"""The clinic admin's go-live page: the columns, a dry run with every problem by line and
column, and the all-or-nothing import."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinic.access import ClinicRequest
from clinic.permissions import Perm, requires
from treatments.golive import forms, services
from treatments.golive.parsing import DMT_COLUMNS, PATIENT_COLUMNS
from treatments.models import ClinicSettings, ProtocolVersion

SAMPLES = Path(__file__).resolve().parent / "samples"
IMPORT = "import"


@requires(Perm.GOLIVE_IMPORT)
def golive(request: ClinicRequest) -> HttpResponse:
    form = forms.GoLiveForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        patients_csv = form.cleaned_data["patients_file"].read()
        upload = form.cleaned_data["dmt_file"]
        dmt_csv = upload.read() if upload is not None else None
        if request.POST.get("action") == IMPORT:
            report = services.import_files(
                patients_csv=patients_csv, dmt_csv=dmt_csv, by=request.user
            )
            if report.imported:
                messages.success(
                    request,
                    f"Imported {report.patients} patients, {report.plans} DMT plans and "
                    f"{report.administrations} doses or courses. Their monitoring is being "
                    "scheduled from the real dates in the background.",
                )
                return redirect("treatments:golive")
        else:
            report = services.check_files(
                patients_csv=patients_csv, dmt_csv=dmt_csv, by=request.user
            )
    clinic = ClinicSettings.load()
    context = {
        "form": form,
        "report": report,
        "clinic": clinic,
        "patient_columns": PATIENT_COLUMNS,
        "dmt_columns": DMT_COLUMNS,
        "drugs": ProtocolVersion.objects.drugs()
        .filter(region=clinic.label_region)
        .order_by("drug_name")
        .values_list("drug_key", "drug_name")
        .distinct(),
        "bsa_drugs": set(
            ProtocolVersion.objects.drugs()
            .dosed_by_body_surface()
            .filter(region=clinic.label_region)
            .values_list("drug_key", flat=True)
        ),
        "sample_patients": (SAMPLES / "patients.csv").read_text(encoding="utf-8"),
        "sample_dmt": (SAMPLES / "dmt_history.csv").read_text(encoding="utf-8"),
    }
    failed = request.method == "POST" and (report is None or not report.ok)
    return render(request, "treatments/golive.html", context, status=422 if failed else 200)
