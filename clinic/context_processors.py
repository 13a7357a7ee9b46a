from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, object]:
    """The role-aware navigation bar: each role sees the pages it works in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[tuple[str, str]] = []
    if user.is_neurologist:
        items.append(("Caseload", reverse("caseload:page")))
    if user.is_clinician:
        items.append(("Patients", reverse("patients:list")))
    if user.is_nurse or user.is_neurologist:
        items.append(("Monitoring", reverse("treatments:worklist")))
    if user.is_clinician:
        items.append(("Referrals", reverse("referrals:board")))
        items.append(("Alerts", reverse("alerts:inbox")))
    if user.is_nurse or user.is_neurologist or user.is_clinic_admin:
        items.append(("Quality", reverse("quality:dashboard")))
    items.append(("DMT catalogue", reverse("treatments:catalogue")))
    if user.can_break_glass and user.is_clinician:
        items.append(("Emergency access", reverse("emergency:access")))
    if user.is_clinic_admin:
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
                # The Alerts entry shows the inbox count (treatments.alerts.context_processors).
                "counted": label == "Alerts",
            }
            for label, url in items
        ],
    }
