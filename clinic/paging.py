"""A page of a list and the list's total from one query.

Django's Paginator counts with a second query (`SELECT COUNT(*)` over the same filters) before
fetching the page. On a hot list whose filters include the care-team scope, that second query
costs as much to plan and run as the page itself. Here the page's own query carries the total
(`COUNT(*) OVER ()`, computed before LIMIT), so a page is one query. A page number past the end
falls back to the last page, like Paginator.get_page.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window


def get_page(queryset: QuerySet[Any], number: str | None, per_page: int) -> Page:
    wanted = int(number) if number and number.isdigit() and int(number) > 0 else 1
    counted = queryset.annotate(paging_total=Window(Count("pk")))
    rows = list(counted[(wanted - 1) * per_page : wanted * per_page])
    if not rows and wanted > 1:  # past the end: the last page, as Paginator.get_page does
        total = queryset.count()
        last = max(1, -(-total // per_page))
        rows = list(counted[(last - 1) * per_page : last * per_page])
        wanted = last
    paginator = Paginator(queryset, per_page)
    paginator.__dict__["count"] = rows[0].paging_total if rows else 0  # the cached property
    return Page(rows, wanted, paginator)
