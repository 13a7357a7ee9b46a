"""Access helpers every view uses: role checks, the scoped patient lookup, htmx-aware rendering."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_htmx.middleware import HtmxDetails

from clinic.accounts.models import User
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from patients.models import Patient, PatientQuerySet


class ClinicRequest(HttpRequest):
    """A request that passed the login middleware: its user is a real, signed-in User."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


def role_required(*roles: str) -> Callable:
    """Allow only users with one of these roles (403 otherwise). Login is enforced globally."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.role not in roles:  # type: ignore[union-attr]
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def clinician_required(view: Callable) -> Callable:
    return role_required("neurologist", "nurse", "therapist")(view)


def patient_page(view: Callable) -> Callable:
    """Patient pages carry PHI: never cached by the browser or a proxy."""
    return never_cache(view)


def visible_patients(request: HttpRequest) -> PatientQuerySet:
    return Patient.objects.visible_to(request.user)  # type: ignore[arg-type]


def visible_patient_ids(request: HttpRequest) -> QuerySet[Any]:
    """The same scope as a subquery of ids: for lists of other rows (items, results, ...)."""
    return Patient.objects.visible_ids(request.user)  # type: ignore[arg-type]


def get_patient_for(
    request: HttpRequest,
    external_id: uuid.UUID | str,
    *,
    category: Category | str,
    action: Action | str = Action.VIEW,
    queryset: PatientQuerySet | None = None,
) -> Patient:
    """The scoped lookup: a patient outside the user's scope is a 404, indistinguishable from
    one that does not exist. Every successful lookup is written to the access trail."""
    qs = queryset if queryset is not None else visible_patients(request)
    try:
        patient = qs.get(external_id=external_id)
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("No such patient.") from None
    audit.record(user=request.user, patient=patient, action=action, category=category)  # type: ignore[arg-type]
    return patient


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str | None = None
) -> HttpResponse:
    """Render the whole page, or only the named partial for an htmx request targeting it."""
    if partial and getattr(request, "htmx", False):
        return render(request, f"{template}#{partial}", context)
    return render(request, template, context)
