"""What a patient's death or transfer does to their treatment: every DMT plan still running or
planned is stopped, every open monitoring item cancelled and every open alert closed, each with
the reason. Nothing is deleted: statuses and reasons, audited (patients.records.services calls
this through PATIENT_STATUS_CONSEQUENCES, first as a dry run for the confirmation page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinic.audit import services as audit
from clinic.audit.models import Action, Category

if TYPE_CHECKING:
    from clinic.accounts.models import User
    from patients.models import Patient

NAMED = 5


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED])
    return shown + (f" and {len(names) - NAMED} more" if len(names) > NAMED else "")


def status_consequences(patient: Patient, *, reason: str, by: User, dry_run: bool) -> list[str]:
    """What the status change does (dry run) or did, one line each, in plain words."""
    from treatments.alerts import services as alerts
    from treatments.models import (
        ACTIVE_STATUSES,
        Alert,
        DmtPlan,
        ItemStatus,
        MonitoringItem,
        PlanStatus,
        StopReason,
    )
    from treatments.plans import services as plan_services
    from treatments.plans.schedule import close_item_alerts

    today = timezone.localdate()
    plans = list(
        DmtPlan.objects.filter(
            patient=patient,
            status__in=[PlanStatus.ACTIVE, PlanStatus.SUSPENDED, PlanStatus.PLANNED],
        ).order_by("planned_on", "id")
    )
    items = list(MonitoringItem.objects.filter(patient=patient).open().order_by("due_on", "id"))
    alert_rows = list(
        Alert.objects.filter(patient=patient, status__in=ACTIVE_STATUSES).order_by("created_at")
    )
    lines = []
    for plan in plans:
        if plan.status == PlanStatus.PLANNED:
            lines.append(f"Abandon the planned {plan.drug_name}.")
        else:
            since = f" (since {plan.started_on:%d %b %Y})" if plan.started_on else ""
            lines.append(f"Stop {plan.drug_name}{since} today.")
    if items:
        lines.append(
            f"Cancel {len(items)} open monitoring item{'s' if len(items) != 1 else ''}: "
            + _names([f"{i.investigation_name} (due {i.due_on:%d %b %Y})" for i in items])
            + "."
        )
    if alert_rows:
        lines.append(
            f"Close {len(alert_rows)} open alert{'s' if len(alert_rows) != 1 else ''}: "
            + _names([a.title for a in alert_rows])
            + "."
        )
    if dry_run:
        return lines
    with transaction.atomic():
        for plan in plans:
            # The plan's own sync cancels its items (the patient is no longer active).
            plan_services.end_dmt_plan(
                plan=plan,
                stopped_on=max(today, plan.started_on or today),
                reason=StopReason.OTHER,
                note=reason,
                by=by,
            )
        still_open = MonitoringItem.objects.filter(patient=patient).open()
        closing = list(still_open.values_list("pk", flat=True))
        MonitoringItem.objects.filter(pk__in=closing).update(
            status=ItemStatus.CANCELLED,
            cancelled_reason=f"No longer due: {reason}"[:200],
            updated_at=timezone.now(),
        )
        close_item_alerts(closing, f"Closed automatically: {reason}")
        alerts.auto_resolve(
            queryset=Alert.objects.filter(patient=patient),
            note=f"Closed automatically: {reason}",
        )
        audit.record(
            user=by,
            patient=patient,
            action=Action.UPDATE,
            category=Category.MONITORING,
            detail=(
                f"{patient.get_status_display()}: {len(items)} monitoring item(s) cancelled, "
                f"{len(alert_rows)} alert(s) closed, {len(plans)} plan(s) ended"
            ),
        )
    return lines
