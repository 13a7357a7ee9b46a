"""Celery entry points for break glass."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.urls import reverse

from clinic.accounts.models import User
from patients.models import EmergencyAccess


@shared_task(name="clinic.accounts.notify_admins_of_emergency_access")
def notify_admins_of_emergency_access(grant_id: int) -> int:
    """Tell every clinic admin that someone broke the glass. No patient name in the email:
    the admin follows the link to the audit report, which is behind sign-in."""
    grant = EmergencyAccess.objects.select_related("user").get(pk=grant_id)
    recipients = list(
        User.objects.filter(role="admin", is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    send_mail(
        subject="Myelin: emergency access used",
        message=(
            f"{grant.user.display_name} used emergency access at {grant.granted_at:%Y-%m-%d %H:%M %Z} "
            f"until {grant.expires_at:%H:%M %Z}.\n\nReview it in the audit report: "
            f"{reverse('audit:report')}?action=break_glass"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
