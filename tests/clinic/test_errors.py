"""A failing view shows a plain error page: no stack trace, no patient data, nothing in the logs."""

from __future__ import annotations

import logging

import pytest
from django.urls import path

from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Category
from clinic.urls import urlpatterns as real_patterns
from patients.models import Patient


def exploding_view(request, external_id):
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.CLINICAL
    )
    raise RuntimeError(f"boom while showing {patient.full_name} {patient.mrn}")


urlpatterns = [path("explode/<uuid:external_id>/", exploding_view, name="explode"), *real_patterns]
handler500 = "clinic.errors.server_error"
handler404 = "clinic.errors.page_not_found"


@pytest.mark.urls("tests.clinic.test_errors")
def test_a_forced_exception_leaks_no_stack_trace_or_patient_data(
    signed_in, neurologist, patient_a, caplog
):
    client = signed_in(neurologist)
    client.raise_request_exception = False
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/explode/{patient_a.external_id}/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    assert "Archer" not in body
    assert "AAA00001" not in body
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Archer" not in logged
    assert "AAA00001" not in logged
    assert "explode" in logged  # the view name is logged, so the error can be found


def test_not_found_pages_do_not_echo_the_path(signed_in, neurologist):
    response = signed_in(neurologist).get("/patients/<script>alert(1)</script>/")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.content.decode()
