"""The read-only FHIR endpoint (`/fhir/`): JSON for people's programs, not pages.

Each view is wrapped by `fhir_endpoint`, which lets a request in with a signed-in session (the
usual middleware has already asked for the second sign-in step) or with a personal API token
(`Authorization: Bearer`, clinic.accounts.tokens; no session is read or made), and answers every
refusal as an OperationOutcome: 401 without credentials or with a bad token, 403 when the role
may not export (the permission table's words), 405 for anything but GET, 404 for a patient
outside the user's care teams, exactly as for a patient that does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from clinic.access import ClinicRequest
from clinic.accounts import tokens
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import CapabilityDenied, Perm, requires
from patients.models import Patient
from treatments.fhir import builders, services
from treatments.fhir.records import records_of, with_records


def _outcome(status: int, code: str, diagnostics: str) -> HttpResponse:
    response = HttpResponse(
        services.to_json(services.operation_outcome(code, diagnostics)),
        status=status,
        content_type=services.JSON_TYPE,
    )
    add_never_cache_headers(response)
    return response


def _unauthorized(diagnostics: str, *, bad_token: bool = False) -> HttpResponse:
    response = _outcome(401, "login", diagnostics)
    challenge = 'Bearer realm="Myelin FHIR"'
    if bad_token:
        challenge += ', error="invalid_token"'
    response["WWW-Authenticate"] = challenge
    return response


def read_only(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """405 for anything but GET (and HEAD), before anything is looked up."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            response = _outcome(405, "not-supported", "The FHIR endpoint is read-only: use GET.")
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapped


def fhir_endpoint(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Authenticate (session or API token) and answer every refusal as an OperationOutcome.
    Wraps `requires(...)`, so the role is checked for the user the token names."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            token = tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                return _unauthorized(
                    "The API token is unknown, expired or revoked.", bad_token=True
                )
            # For this request only: nothing is written to a session.
            request.user = token.user
            request.api_token = token  # type: ignore[attr-defined]
        elif not request.user.is_authenticated:
            return _unauthorized("Sign in, or send an API token as Authorization: Bearer.")
        try:
            response = view(request, *args, **kwargs)
        except CapabilityDenied as denied:
            return _outcome(403, "forbidden", str(denied))
        except Http404:
            return _outcome(404, "not-found", "Not found.")
        add_never_cache_headers(response)  # patient data: never kept by a browser or proxy
        return response

    wrapped.login_required = False  # type: ignore[attr-defined]  # 401 here, not a redirect
    return wrapped


def _credential(request: HttpRequest) -> str:
    token = getattr(request, "api_token", None)
    return f"API token {token.prefix}…" if token is not None else "session"


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("/metadata")


def _patient(request: ClinicRequest, external_id: str, queryset: Any, what: str) -> Patient:
    return get_scoped_or_404(  # type: ignore[no-any-return]
        request,
        queryset,
        external_id=external_id,
        category=Category.CLINICAL,
        action=Action.EXPORT,
        detail=f"FHIR {what} ({_credential(request)})",
    )


def _json(resource: dict[str, Any]) -> HttpResponse:
    return HttpResponse(services.to_json(resource), content_type=services.JSON_TYPE)


@fhir_endpoint
@requires(Perm.FHIR_EXPORT)
@read_only
def patient_read(request: ClinicRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Patient.objects.all(), "read: Patient")
    return _json(builders.patient_resource(patient))


@fhir_endpoint
@requires(Perm.FHIR_EXPORT)
@read_only
def everything(request: ClinicRequest, external_id: str) -> HttpResponse:
    """Patient/$everything: the whole record in one Bundle, loaded in one query."""
    patient = _patient(
        request,
        external_id,
        with_records(Patient.objects.all()),
        "Patient/$everything: " + ", ".join(services.RESOURCE_TYPES),
    )
    bundle = services.everything_bundle(
        records_of(patient),
        base_url=_base_url(request),
        self_url=request.build_absolute_uri(request.path),
    )
    response = _json(bundle)
    if request.GET.get("download"):
        # No name or MRN in the file name: downloads folders outlive the visit.
        response["Content-Disposition"] = (
            f'attachment; filename="patient-record-{timezone.localdate():%Y-%m-%d}.fhir.json"'
        )
    return response


@fhir_endpoint
@requires(Perm.FHIR_EXPORT)
@read_only
def group_export(request: ClinicRequest, team_id: str) -> HttpResponseBase:
    """Group/$export for one of the user's care teams, answered at once as NDJSON (one
    resource per line) rather than by FHIR Bulk Data's asynchronous kick-off and polling.
    `_type` (comma-separated resource types) limits what is sent."""
    team_pk = _int(team_id)
    team = request.user.care_teams.filter(pk=team_pk).first() if team_pk is not None else None
    if team is None:
        raise Http404
    types: tuple[str, ...] = services.RESOURCE_TYPES
    if "_type" in request.GET:
        types = tuple(t.strip() for t in request.GET["_type"].split(",") if t.strip())
        unknown = sorted(set(types) - set(services.RESOURCE_TYPES))
        if unknown or not types:
            return _outcome(
                400,
                "invalid",
                f"_type: {', '.join(unknown) or 'empty'} is not exported here; choose from "
                f"{', '.join(services.RESOURCE_TYPES)}.",
            )
    response = StreamingHttpResponse(
        services.team_export_lines(user=request.user, team=team, types=types),
        content_type=services.NDJSON_TYPE,
    )
    response["Content-Disposition"] = (
        f'attachment; filename="care-team-{team.pk}-{timezone.localdate():%Y-%m-%d}.ndjson"'
    )
    return response


@login_not_required  # what the server can do, without any patient data
@read_only
def metadata(request: HttpRequest) -> HttpResponse:
    return _json(services.capability_statement(base_url=_base_url(request)))


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
