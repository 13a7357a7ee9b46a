"""Error pages in the app's own chrome, with a way back; they never echo the request path, a
stack trace or patient data."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from clinic.permissions import CapabilityDenied

logger = logging.getLogger("myelin.errors")


class Refused(PermissionDenied):
    """A 403 whose message we wrote for the user: the error page shows it (other 403s show a
    general message, as their text may come from anywhere)."""


def _page(status: int, title: str, message: str, request: HttpRequest | None) -> HttpResponse:
    """Rendered with the request (so a signed-in user keeps the navigation) only when the
    request is sound; without it no context processor runs: no user, no database, nothing
    that could fail a second time."""
    body = render_to_string(
        "errors/error.html",
        {"status": status, "title": title, "message": message},
        request=request,
    )
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A request Django refused (a bad Host header, say) is not one to build a page from.
    return _page(400, "Bad request", "The request could not be understood.", None)


def bad_input(message: str) -> HttpResponse:
    """A 400 whose message says what was wrong with the request (written by us, never echoing
    what was sent)."""
    return _page(400, "Bad request", message, None)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A refusal by the permission table says who may; a read-only refusal says why (neither
    # carries patient data); any other refusal keeps the general message.
    if isinstance(exception, CapabilityDenied | Refused) and str(exception):
        return _page(403, "Not allowed", str(exception), request)
    return _page(403, "Not allowed", "Your role does not give access to this page.", request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(404, "Not found", "There is nothing here, or it is not yours to see.", request)


def server_error(request: HttpRequest) -> HttpResponse:
    # The view name, not the path: paths carry patient ids.
    match = getattr(request, "resolver_match", None)
    logger.error("Server error in view %s", match.view_name if match else "unknown")
    return _page(
        500,
        "Something went wrong",
        "The error has been logged. Nothing you entered was saved.",
        None,
    )
