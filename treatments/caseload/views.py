"""The neurologist's caseload: their patients' clinical picture beside current DMT, next
monitoring due, overdue items and open alerts, in one query per page."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from clinic.access import ClinicRequest, patient_page, render_page
from clinic.audit import services as audit
from clinic.audit.models import Category
from clinic.permissions import Perm, requires
from patients.models import RECENT_RELAPSE_DAYS, Patient
from treatments.caseload.forms import CaseloadFilterForm
from treatments.caseload.services import annotate_caseload

PAGE_SIZE = 25


@requires(Perm.CASELOAD_VIEW)
@patient_page
@vary_on_headers("HX-Request")
def caseload(request: ClinicRequest) -> HttpResponse:
    today = timezone.localdate()
    form = CaseloadFilterForm(request.GET if request.GET else None)
    filters = form.filters()
    rows = annotate_caseload(
        Patient.objects.caseload_rows(user=request.user, filters=filters, today=today),
        filters,
        today,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_list(
        user=request.user, patient_ids=[p.pk for p in page], category=Category.CLINICAL
    )
    query = request.GET.copy()
    query.pop("page", None)
    prefix = f"{query.urlencode()}&" if query else ""
    return render_page(
        request,
        "treatments/caseload.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "today": today,
            "querystring_prefix": prefix,
            "recent_relapse_since": today - timedelta(days=RECENT_RELAPSE_DAYS),
        },
        partial="caseload-table",
    )
