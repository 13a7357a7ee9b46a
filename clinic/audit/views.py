from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from clinic.access import render_page, role_required
from clinic.audit.models import AccessEvent


@role_required("admin")
@never_cache
def report(request: HttpRequest) -> HttpResponse:
    events = AccessEvent.objects.select_related("user", "patient").order_by("-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render_page(request, "audit/report.html", {"page": page}, partial="audit-table")
