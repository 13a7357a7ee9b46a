"""A page of a list and the list's total from one query.

Django's Paginator counts with a second query (`SELECT COUNT(*)` over the same filters) before
fetching the page. On a hot list whose filters include the care-team scope, that second query
costs as much to plan and run as the page itself. Here the page's own query carries the total
(`COUNT(*) OVER ()`, computed before LIMIT), so a page is one query. A page number past the end
falls back to the last page, like Paginator.get_page; a page number that is not a plain number
is the first page. Never a server error, whatever `?page=` says.

A list whose rows are costly to read (joins to the people a row names, wide columns) can find
its page on the narrow query alone, the ids and the total, and read the rows of that page only
(`fetch`): PostgreSQL then joins thirty rows instead of every row the filters match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window

# Any page number above this is "past the end" already (a million pages of rows), and keeps
# LIMIT/OFFSET far inside PostgreSQL's bigint.
MAX_PAGE = 1_000_000


def page_number(number: str | None) -> int:
    """The page asked for: 1 for anything that is not a plain ASCII number (`²`, `٣`, `-1`,
    `0x1`), MAX_PAGE for a huge one (which then falls back to the last page)."""
    if not number or not (number.isascii() and number.isdigit()):
        return 1
    if len(number) > len(str(MAX_PAGE)):  # int() of 5,000 digits is itself refused
        return MAX_PAGE
    return min(max(int(number), 1), MAX_PAGE)


def get_page(
    queryset: QuerySet[Any],
    number: str | None,
    per_page: int,
    *,
    fetch: Callable[[list[Any]], Iterable[Any]] | None = None,
) -> Page:
    """The page `number` of `queryset` (filtered, scoped and ordered by the caller).

    With `fetch`, `queryset` only finds the page: its ids and the total, in one query; then
    `fetch(ids)` reads those rows (any order; a row gone in between is left out). `fetch` is
    given only ids `queryset` returned, so it needs none of its filters again."""
    wanted = page_number(number)
    counted = queryset.annotate(paging_total=Window(Count("pk")))
    if fetch is not None:
        counted = counted.values_list("pk", "paging_total")  # type: ignore[assignment]

    def page_of(page: int) -> list[Any]:
        return list(counted[(page - 1) * per_page : page * per_page])

    rows = page_of(wanted)
    if not rows and wanted > 1:  # past the end: the last page, as Paginator.get_page does
        total = queryset.count()
        wanted = max(1, -(-total // per_page))
        rows = page_of(wanted)
    paginator = Paginator(queryset, per_page)
    if fetch is None:
        paginator.__dict__["count"] = rows[0].paging_total if rows else 0  # the cached property
        return Page(rows, wanted, paginator)
    paginator.__dict__["count"] = rows[0][1] if rows else 0
    found = {row.pk: row for row in fetch([pk for pk, _ in rows])} if rows else {}
    return Page([found[pk] for pk, _ in rows if pk in found], wanted, paginator)
