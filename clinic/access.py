"""What every view shares: the signed-in request, htmx-aware rendering and the one guard for a
`next` URL. (Who may use a view: clinic.permissions.requires. Reaching a patient's data goes
through clinic.audit.access.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from clinic.accounts.models import User


class ClinicRequest(HttpRequest):
    """A request that passed the login middleware: its user is a real, signed-in User."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


def patient_page(view: Callable) -> Callable:
    """Patient pages carry PHI: never cached by the browser or a proxy."""
    return never_cache(view)


def safe_next(request: HttpRequest, fallback: str = "", *, field: str = "next") -> str:
    """The `next` URL of the request (POST, then GET) if it stays on this site, else fallback.

    The one guard for a `next` parameter: an absolute URL to another host, a scheme-relative
    `//host` or a malformed value never becomes a redirect."""
    candidate = request.POST.get(field) or request.GET.get(field) or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str | None = None
) -> HttpResponse:
    """Render the whole page, or only the named partial for an htmx request targeting it."""
    if partial and getattr(request, "htmx", False):
        return render(request, f"{template}#{partial}", context)
    return render(request, template, context)
