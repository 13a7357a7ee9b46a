"""The alert inbox count shown in the navigation bar of every page."""

from __future__ import annotations

from django.http import HttpRequest

from clinic.permissions import Perm, may
from treatments.alerts.services import inbox_count


def alert_count(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not may(user, Perm.PATIENT_VIEW):
        return {"nav_alert_count": 0}
    # A page may render several templates with this request (the patient page renders each
    # panel): count once per request.
    cached = getattr(request, "_myelin_alert_count", None)
    count = inbox_count(user) if cached is None else cached
    request._myelin_alert_count = count  # type: ignore[attr-defined]
    return {"nav_alert_count": count}
