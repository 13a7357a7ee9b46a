from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, object]:
    """The role-aware navigation bar: each role sees the pages it works in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[tuple[str, str]] = []
    alert_count = 0
    if user.is_clinician:
        from treatments.alerts import inbox_count

        # A page may render several templates with this request (the patient page renders each
        # panel): count once per request.
        cached = getattr(request, "_myelin_alert_count", None)
        alert_count = inbox_count(user) if cached is None else cached
        request._myelin_alert_count = alert_count  # type: ignore[attr-defined]
    if user.is_neurologist:
        items.append(("Caseload", reverse("patients:caseload")))
    if user.is_clinician:
        items.append(("Patients", reverse("patients:list")))
    if user.is_nurse or user.is_neurologist:
        items.append(("Monitoring", reverse("treatments:worklist")))
    if user.is_clinician:
        items.append(("Referrals", reverse("referrals:board")))
        items.append(("Alerts", reverse("alerts:inbox")))
    items.append(("DMT catalogue", reverse("treatments:catalogue")))
    if user.can_break_glass and user.is_clinician:
        items.append(("Emergency access", reverse("accounts:emergency_access")))
    if user.is_clinic_admin:
        items.append(("Users", reverse("staff:users")))
        items.append(("Care teams", reverse("staff:teams")))
        items.append(("System status", reverse("clinic:status")))
        items.append(("Audit", reverse("audit:report")))
    current = request.path
    # The most specific matching entry is the current page (/patients/caseload/ is Caseload,
    # not also Patients).
    matches = [url for _, url in items if current.startswith(url)]
    active_url = max(matches, key=len) if matches else None
    return {
        "nav_items": [
            {
                "label": label,
                "url": url,
                "active": url == active_url,
                "count": alert_count if label == "Alerts" else 0,
            }
            for label, url in items
        ],
    }
