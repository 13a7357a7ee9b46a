from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.access import role_required


@role_required("nurse", "neurologist")
def worklist(request: HttpRequest) -> HttpResponse:
    return render(request, "treatments/worklist.html", {})


def catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "treatments/catalogue.html", {})
