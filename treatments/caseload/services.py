"""The treatments columns and filters of the caseload: current DMT, next monitoring due,
overdue monitoring and open alerts, each a correlated subquery so the page costs one query."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from patients.models import CaseloadFilters, PatientQuerySet
from treatments.models import ACTIVE_STATUSES, Alert
from treatments.models.monitoring import MonitoringItem
from treatments.models.plans import DmtPlan, PlanStatus
from treatments.protocols import all_protocols

CURRENT_PLAN_STATUSES = (PlanStatus.ACTIVE, PlanStatus.SUSPENDED)


def _count(qs) -> Subquery:  # type: ignore[no-untyped-def]
    counted = qs.order_by().values("patient").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))  # type: ignore[return-value]


def annotate_caseload(
    rows: PatientQuerySet, filters: CaseloadFilters, today: date
) -> PatientQuerySet:
    current_plan = DmtPlan.objects.filter(patient=OuterRef("pk"), status__in=CURRENT_PLAN_STATUSES)
    open_items = MonitoringItem.objects.open().filter(patient=OuterRef("pk"))
    overdue_items = MonitoringItem.objects.overdue(on=today).filter(patient=OuterRef("pk"))
    active_alerts = Alert.objects.filter(patient=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    rows = rows.annotate(
        current_dmt=Subquery(current_plan.order_by("-started_on").values("drug_name")[:1]),
        current_dmt_status=Subquery(current_plan.order_by("-started_on").values("status")[:1]),
        next_due_on=Subquery(
            open_items.filter(window_closes_on__gte=today)
            .order_by()
            .values("patient")
            .annotate(first=Min("due_on"))
            .values("first")
        ),
        overdue_count=_count(overdue_items),
        open_alert_count=_count(active_alerts),
    )
    if filters.dmt:
        rows = rows.filter(Exists(current_plan.filter(drug_key=filters.dmt)))
    if filters.overdue:
        rows = rows.filter(Exists(overdue_items))
    if filters.open_alerts:
        rows = rows.filter(Exists(active_alerts))
    return rows


def dmt_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for protocol in all_protocols():
        if protocol.drug_key != "general":
            seen.setdefault(protocol.drug_key, protocol.drug_name)
    return sorted(seen.items(), key=lambda item: item[1].lower())
