from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clinic.access import ClinicRequest, render_page
from clinic.audit import services as audit
from clinic.audit.forms import SORTS, AuditFilterForm
from clinic.audit.models import AccessEvent, Action, Category
from clinic.permissions import Perm, requires


def _filtered(form: AuditFilterForm) -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.select_related("user", "patient")
    if not form.is_valid():
        return events.order_by("-id")
    data = form.cleaned_data
    zone = timezone.get_current_timezone()
    if data.get("start"):
        events = events.filter(at__gte=datetime.combine(data["start"], time.min, tzinfo=zone))
    if data.get("end"):
        events = events.filter(
            at__lt=datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone)
        )
    if data.get("user"):
        events = events.filter(user=data["user"])
    if data.get("mrn"):
        events = events.filter(patient__mrn=data["mrn"].replace(" ", "").upper())
    if data.get("action"):
        events = events.filter(action=data["action"])
    if data.get("category"):
        events = events.filter(category=data["category"])
    order = SORTS.get(data.get("sort") or "-at", "-at")
    return events.order_by(order, "-id")


@requires(Perm.AUDIT_VIEW)
@never_cache
def report(request: ClinicRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    page = Paginator(_filtered(form), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort = request.GET.get("sort", "-at")
    query.pop("sort", None)
    context = {
        "form": form,
        "page": page,
        "sort": sort,
        "base_query": query.urlencode(),
        "querystring_prefix": (query.urlencode() + "&sort=" + sort + "&")
        if query
        else f"sort={sort}&",
        "columns": [
            ("at", "When"),
            ("user", "User"),
            ("patient", "Patient"),
            ("action", "Action"),
            ("category", "Data"),
        ],
    }
    return render_page(request, "audit/report.html", context, partial="audit-table")


class _Echo:
    def write(self, value: str) -> str:
        return value


@requires(Perm.AUDIT_VIEW)
@never_cache
def export_csv(request: ClinicRequest) -> StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = _filtered(form)
    audit.record(
        user=request.user, action=Action.EXPORT, category=Category.AUDIT, detail="audit report CSV"
    )
    writer = csv.writer(_Echo())

    def rows():  # type: ignore[no-untyped-def]
        yield writer.writerow(
            [
                "id",
                "at",
                "user",
                "patient_mrn",
                "action",
                "category",
                "object_type",
                "object_id",
                "detail",
                "hash",
            ]
        )
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.id,
                    event.at.isoformat(),
                    event.user.username if event.user else "",
                    event.patient.mrn if event.patient else "",
                    event.action,
                    event.category,
                    event.object_type,
                    event.object_id,
                    _csv_safe(event.detail),
                    event.hash,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="myelin-audit.csv"'
    return response


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula in a spreadsheet: neutralise it.
    return "'" + value if value[:1] in {"=", "+", "-", "@"} else value
