"""What treatments adds to the patient page's header: the current DMT and since when, the next
monitoring due, the overdue items and the open alerts, each named.

The patient page's query count is pinned (tests/performance): these facts cost no query of their
own. `annotate` adds them to the one query that loads the patient (correlated subqueries, the
lists as JSON aggregates), `facts` turns the annotations into words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.aggregates import JSONBAgg
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import JSONField
from django.db.models.functions import JSONObject

from patients.records.timeline import HeaderFact, HeaderSource

if TYPE_CHECKING:
    from patients.models import Patient, PatientQuerySet

# A header names this many items or alerts at most, then says how many more.
NAMED = 3


def _aggregate(qs: Any, ordering: tuple[str, ...], **fields: Any) -> Subquery:
    """One JSON list per patient of `fields` from `qs` (rows of OuterRef("pk"))."""
    rows = (
        qs.order_by()
        .values("patient")
        .annotate(rows=JSONBAgg(JSONObject(**fields), order_by=ordering))
        .values("rows")
    )
    return Subquery(rows, output_field=JSONField())


def annotate(rows: PatientQuerySet, today: date) -> PatientQuerySet:
    from treatments.models import ACTIVE_STATUSES, Alert, DmtPlan, MonitoringItem
    from treatments.models.plans import CURRENT_STATUSES, PlanStatus

    plans = DmtPlan.objects.filter(patient=OuterRef("pk"))
    current = plans.filter(status__in=CURRENT_STATUSES).order_by("-started_on", "-id")
    planned = plans.filter(status=PlanStatus.PLANNED).order_by("-planned_on", "-id")
    items = MonitoringItem.objects.filter(patient=OuterRef("pk"))
    upcoming = items.open().filter(window_closes_on__gte=today).order_by("due_on", "id")
    alerts = Alert.objects.filter(patient=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    return rows.annotate(
        header_dmt=Subquery(
            current.values(
                json=JSONObject(name="drug_name", status="status", started_on="started_on", id="id")
            )[:1],
            output_field=JSONField(),
        ),
        header_planned_dmt=Subquery(planned.values("drug_name")[:1]),
        header_next_due=Subquery(
            upcoming.values(
                json=JSONObject(
                    investigation="investigation",
                    due_on="due_on",
                    status="status",
                    booked_on="booked_on",
                )
            )[:1],
            output_field=JSONField(),
        ),
        header_overdue=_aggregate(
            items.overdue(on=today),
            ("due_on", "id"),
            investigation="investigation",
            due_on="due_on",
        ),
        header_alerts=_aggregate(
            alerts,
            ("-created_at", "-id"),
            title="title",
            grade="grade",
            status="status",
        ),
    )


def _day(value: str | None) -> str:
    return f"{date.fromisoformat(value):%d %b %Y}" if value else ""


def _named(names: list[str]) -> list[str]:
    if len(names) <= NAMED:
        return names
    return [*names[:NAMED], f"and {len(names) - NAMED} more"]


def facts(patient: Patient, today: date) -> Iterable[HeaderFact]:
    from django.urls import reverse

    from treatments.models import AlertGrade, ItemStatus, PlanStatus
    from treatments.protocols import investigation_name

    if not hasattr(patient, "header_alerts"):
        return []  # not loaded through `annotate` (a page that shows no header facts)
    treatments_url = reverse("treatments:patient", kwargs={"external_id": patient.external_id})
    dmt: dict[str, Any] | None = getattr(patient, "header_dmt", None)
    out: list[HeaderFact] = []
    if dmt:
        suspended = dmt["status"] == PlanStatus.SUSPENDED
        text = f"{dmt['name']} since {_day(dmt['started_on'])}"
        out.append(
            HeaderFact(
                "Current DMT",
                text + (" (suspended)" if suspended else ""),
                tone="warning" if suspended else "",
                url=reverse(
                    "treatments:plan",
                    kwargs={"external_id": patient.external_id, "plan_id": dmt["id"]},
                ),
            )
        )
    else:
        planned = getattr(patient, "header_planned_dmt", None)
        out.append(
            HeaderFact(
                "Current DMT",
                f"None; {planned} planned" if planned else "None",
                tone="muted",
                url=treatments_url,
            )
        )
    nxt: dict[str, Any] | None = getattr(patient, "header_next_due", None)
    if nxt:
        text = f"{investigation_name(nxt['investigation'])}, due {_day(nxt['due_on'])}"
        if nxt["status"] == ItemStatus.BOOKED and nxt["booked_on"]:
            text += f" (booked {_day(nxt['booked_on'])})"
        out.append(HeaderFact("Next monitoring", text, url=treatments_url))
    else:
        out.append(HeaderFact("Next monitoring", "Nothing due", tone="muted"))
    overdue: list[dict[str, Any]] = getattr(patient, "header_overdue", None) or []
    if overdue:
        n = len(overdue)
        out.append(
            HeaderFact(
                "Overdue",
                f"{n} overdue monitoring item{'s' if n != 1 else ''}",
                detail=_named(
                    [
                        f"{investigation_name(i['investigation'])} (due {_day(i['due_on'])})"
                        for i in overdue
                    ]
                ),
                tone="warning",
                url=treatments_url,
            )
        )
    alerts: list[dict[str, Any]] = getattr(patient, "header_alerts", None) or []
    if alerts:
        n = len(alerts)
        critical = any(a["grade"] == AlertGrade.CRITICAL for a in alerts)
        out.append(
            HeaderFact(
                "Open alerts",
                f"{n} open alert{'s' if n != 1 else ''}",
                detail=_named([a["title"] for a in alerts]),
                tone="critical" if critical else "warning",
                url=reverse("alerts:inbox"),
            )
        )
    else:
        out.append(HeaderFact("Open alerts", "None", tone="muted"))
    return out


patient_header = HeaderSource(annotate=annotate, facts=facts)
