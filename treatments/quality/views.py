"""The quality dashboard: the figures for a period and a team, their trends, a CSV of them,
and, for clinicians, the patients behind each figure.

Neurologists and nurses see their own teams; the clinic admin sees the whole clinic or any
team, in aggregate only (the drill-down lists patients, so it is for clinicians).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, may, requires
from treatments.quality import drilldown, services
from treatments.quality.charts import trend_charts
from treatments.quality.forms import QualityFilterForm

DRILL_PAGE_SIZE = 50


def _form(request: ClinicRequest) -> QualityFilterForm:
    return QualityFilterForm(request.GET, user=request.user, today=timezone.localdate())


@requires(Perm.QUALITY_VIEW)
@never_cache
@vary_on_headers("HX-Request")
def dashboard(request: ClinicRequest) -> HttpResponse:
    form = _form(request)
    context: dict[str, object] = {
        "form": form,
        "can_drill": may(request.user, Perm.QUALITY_DRILLDOWN),
    }
    if form.is_valid():
        board = services.recent_dashboard(scope=form.scope(), period=form.period())
        context |= {
            "board": board,
            "charts": trend_charts(board, today=form.today),
            "query": form.querystring(),
        }
        return render_page(request, "treatments/quality.html", context, partial="quality-figures")
    if request.htmx:
        # htmx does not swap a 400 in: send the browser to the whole page, which shows each
        # error beside its field.
        return HttpResponseClientRedirect(request.get_full_path())
    return render(request, "treatments/quality.html", context, status=400)


@requires(Perm.QUALITY_VIEW)
@never_cache
def export(request: ClinicRequest) -> HttpResponse:
    """The dashboard's figures as CSV: counts only, never a patient."""
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        return HttpResponse(f"Bad filters: {errors}\n", status=400, content_type="text/plain")
    board = services.dashboard(scope=form.scope(), period=form.period())
    audit.record(
        user=request.user,
        action=Action.EXPORT,
        category=Category.MONITORING,
        detail="quality dashboard CSV",
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    period = board.period
    response["Content-Disposition"] = (
        f'attachment; filename="myelin-quality-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerows([_csv_safe(cell) for cell in row] for row in csv_rows(board))
    return response


def _csv_safe(value: object) -> object:
    # A text cell starting with = + - @ is a formula in a spreadsheet: neutralise it (team
    # names and catalogue labels are text someone typed).
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


HEADER: list[object] = [
    "section",
    "breakdown",
    "key",
    "label",
    "counted",
    "on_time",
    "late",
    "still_open_or_missing",
    "percent_on_time",
    "median_delay_days_or_hours",
    "month",
]


def csv_rows(board: services.Dashboard) -> Iterator[list[object]]:
    yield ["scope", board.scope.label, "", "", "", "", "", "", "", "", ""]
    yield ["period", f"{board.period.start:%Y-%m-%d} to {board.period.end:%Y-%m-%d}", *[""] * 9]
    yield HEADER

    def tally(section: str, breakdown: str, t: services.Tally) -> list[object]:
        return [
            section,
            breakdown,
            t.key,
            t.label,
            t.due,
            t.on_time,
            t.late,
            t.open,
            "" if t.percent is None else t.percent,
            "" if t.median_delay is None else t.median_delay,
            "",
        ]

    m = board.monitoring
    yield tally("monitoring", "all", m.overall)
    for t in m.by_drug:
        yield tally("monitoring", "drug", t)
    for t in m.by_test:
        yield tally("monitoring", "test", t)
    yield tally("mri", "per protocol", m.mri)
    yield tally("mri", "natalizumab PML schedule", m.mri_pml)
    yield tally("jcv", "all", m.jcv)
    e = board.edss
    yield [
        "edss",
        "active patients",
        "edss_12_months",
        "EDSS in the last 12 months",
        e.patients,
        e.recorded,
        "",
        e.missing,
        "" if e.percent is None else e.percent,
        "",
        "",
    ]
    yield tally("referrals", "all", board.referrals.overall)
    for t in board.referrals.by_discipline:
        yield tally("referrals", "discipline", t)
    a = board.acknowledgement
    yield [
        "acknowledgement",
        "abnormal-result alerts",
        "median_hours",
        "Hours to acknowledgement (median)",
        a.raised,
        a.acknowledged,
        a.cleared_unacknowledged,
        a.waiting,
        "",
        "" if a.median_hours is None else a.median_hours,
        "",
    ]
    trends = {
        "monitoring": m.trend["all"],
        "mri": m.trend[services.MRI],
        "mri_pml": m.trend["mri_pml"],
        "jcv": m.trend[services.JCV],
        "edss": e.trend,
        "referrals": board.referrals.trend,
    }
    for name, points in trends.items():
        for p in points:
            value = "" if p.value is None else p.value
            yield ["trend", name, "", "", p.count, "", "", "", value, "", f"{p.month:%Y-%m}"]
    for p in a.trend:
        yield [
            "trend",
            "acknowledgement",
            "",
            "",
            p.count,
            "",
            "",
            "",
            "",
            p.value,
            f"{p.month:%Y-%m}",
        ]


@requires(Perm.QUALITY_DRILLDOWN)
@patient_page
@vary_on_headers("HX-Request")
def drill(request: ClinicRequest, figure: str) -> HttpResponse:
    """The patients behind one figure (scoped like every list of patients, and audited)."""
    if figure not in drilldown.FIGURES:
        raise Http404("No such figure.")
    form = _form(request)
    if not form.is_valid():
        return render(
            request,
            "treatments/quality_patients.html",
            {"form": form, "figure": drilldown.FIGURES[figure], "page": None},
            status=400,
        )
    drug, test = request.GET.get("drug", "")[:40], request.GET.get("test", "")[:40]
    rows = drilldown.patients_behind(
        figure=figure,
        scope=form.scope(),
        period=form.period(),
        user=request.user,
        drug=drug,
        test=test,
    ).select_related("care_team", "neurologist")
    page = Paginator(rows, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        if figure == "acknowledgement":
            row.wait_hours = drilldown.hours(row.since)  # type: ignore[attr-defined]
    audit.record_list(
        user=request.user,
        patient_ids=[p.pk for p in page],
        category=Category.MONITORING,
        detail=f"quality dashboard: {figure}",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(
        request,
        "treatments/quality_patients.html",
        {
            "form": form,
            "figure": drilldown.FIGURES[figure],
            "page": page,
            "drug": drug,
            "test": test,
            "query": form.querystring(),
            "querystring_prefix": f"{query.urlencode()}&",
            "target": "quality-patients",
        },
        partial="quality-patients",
    )
