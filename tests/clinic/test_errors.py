"""Error pages are the app's own, with a way back: no stack trace, no route list, no patient data,
nothing in the logs."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import path

from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Category
from clinic.errors import server_error
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


def assert_in_the_apps_chrome(body: str) -> None:
    assert '<header class="topbar">' in body
    assert 'href="/static/css/myelin.css"' in body
    assert '<a href="/">Back to the start page</a>' in body


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
    assert_in_the_apps_chrome(body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Archer" not in logged
    assert "AAA00001" not in logged
    assert "explode" in logged  # the view name is logged, so the error can be found


def test_not_found_pages_do_not_echo_the_path(signed_in, neurologist):
    response = signed_in(neurologist).get("/patients/<script>alert(1)</script>/")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.content.decode()


def test_an_anonymous_404_is_the_apps_page_not_a_list_of_routes(client):
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert_in_the_apps_chrome(body)
    assert "Not found" in body
    # Django's debug 404 lists every route of the URLconf; none of it may show.
    assert "URLconf" not in body
    assert "django-admin" not in body
    assert "Sign out" not in body


def test_a_signed_in_404_keeps_the_navigation(signed_in, neurologist):
    response = signed_in(neurologist).get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert_in_the_apps_chrome(body)
    assert "Sign out" in body
    assert 'href="/patients/caseload/"' in body
    assert "URLconf" not in body


def test_a_page_outside_the_role_is_a_403_in_the_apps_chrome(signed_in, therapist):
    response = signed_in(therapist).get("/treatments/worklist/")
    body = response.content.decode()
    assert response.status_code == 403
    assert_in_the_apps_chrome(body)
    assert "Not allowed" in body
    assert "Sign out" in body


def test_a_request_for_another_host_is_a_400_in_the_apps_chrome(client):
    response = client.get("/", HTTP_HOST="myelin.evil.example")
    body = response.content.decode()
    assert response.status_code == 400
    assert_in_the_apps_chrome(body)
    assert "evil.example" not in body


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_is_a_403_in_the_apps_chrome():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    body = response.content.decode()
    assert response.status_code == 403
    assert_in_the_apps_chrome(body)
    assert "Form expired" in body


def test_the_500_page_needs_neither_the_database_nor_a_working_request(rf):
    # No django_db mark: any query here would fail the test. The request has no session and no
    # user, as when the error happened before the middleware got that far.
    response = server_error(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert_in_the_apps_chrome(body)
    assert "Something went wrong" in body
    assert "Traceback" not in body
