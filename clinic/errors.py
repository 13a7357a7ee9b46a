"""Error pages that never echo the request path, a stack trace or patient data."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger("myelin.errors")


def _page(status: int, title: str, message: str) -> HttpResponse:
    body = render_to_string(
        "errors/error.html", {"status": status, "title": title, "message": message}
    )
    return HttpResponse(body, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(403, "Not allowed", "Your role does not give access to this page.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(404, "Not found", "There is nothing here, or it is not yours to see.")


def server_error(request: HttpRequest) -> HttpResponse:
    # The view name, not the path: paths carry patient ids.
    match = getattr(request, "resolver_match", None)
    logger.error("Server error in view %s", match.view_name if match else "unknown")
    return _page(
        500, "Something went wrong", "The error has been logged. Nothing you entered was saved."
    )
