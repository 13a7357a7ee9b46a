from __future__ import annotations

from django.http import HttpRequest

from clinic.links import route
from clinic.permissions import Can, Perm, may


def navigation(request: HttpRequest) -> dict[str, object]:
    """The role-aware navigation bar: each role sees the pages it works in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[tuple[str, str]] = []
    if may(user, Perm.CASELOAD_VIEW):
        items.append(("Caseload", route("caseload:page")))
    if may(user, Perm.PATIENT_VIEW):
        items.append(("Patients", route("patients:list")))
    if may(user, Perm.WORKLIST_VIEW):
        items.append(("Monitoring", route("treatments:worklist")))
    if may(user, Perm.INFUSION_CHECKLIST):
        items.append(("Infusions", route("treatments:infusion_day")))
    if may(user, Perm.LAB_REVIEW):
        items.append(("Lab results", route("labimport:queue")))
    if may(user, Perm.PATIENT_VIEW):
        items.append(("Referrals", route("referrals:board")))
        items.append(("Alerts", route("alerts:inbox")))
        items.append(("MDT", route("mdt:meetings")))
    if may(user, Perm.NOTIFICATIONS_VIEW):
        items.append(("Notifications", route("notifications:page")))
    if may(user, Perm.QUALITY_VIEW):
        items.append(("Quality", route("quality:dashboard")))
    items.append(("DMT catalogue", route("treatments:catalogue")))
    if user.can_break_glass and may(user, Perm.BREAK_GLASS):
        items.append(("Emergency access", route("emergency:access")))
    if may(user, Perm.USER_MANAGE):
        items.append(("Users", route("staff:users")))
        items.append(("Care teams", route("staff:teams")))
    if may(user, Perm.SYSTEM_STATUS_VIEW):
        items.append(("System status", route("clinic:status")))
    if may(user, Perm.AUDIT_VIEW):
        items.append(("Audit", route("audit:report")))
    if may(user, Perm.LAB_UPLOAD) and not may(user, Perm.LAB_REVIEW):
        items.append(("Lab import", route("labimport:messages")))
    if may(user, Perm.GOLIVE_IMPORT):
        items.append(("Go-live import", route("treatments:golive")))
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


def permissions(request: HttpRequest) -> dict[str, object]:
    """`can`: what the signed-in user may do, for templates (`{% if can.patient_create %}`), from
    the one table in clinic.permissions. (Not `perms`: that is Django's own.)"""
    return {"can": Can(getattr(request, "user", None))}
