"""Columns and filters other apps add to the neurologist's caseload.

The patients app does not import treatments; instead treatments registers, in its
AppConfig.ready(), a function that annotates and filters the caseload rows (current DMT, next
monitoring due, overdue count, open alerts) with subqueries — one query per page however many
rows — and a provider of the DMT choices for the filter form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patients.models import CaseloadFilters, PatientQuerySet

Extension = Callable[["PatientQuerySet", "CaseloadFilters", date], "PatientQuerySet"]
ChoicesProvider = Callable[[], list[tuple[str, str]]]

_extensions: list[Extension] = []
_dmt_choices: list[ChoicesProvider] = []


def register_extension(extension: Extension, *, dmt_choices: ChoicesProvider | None = None) -> None:
    if extension not in _extensions:
        _extensions.append(extension)
    if dmt_choices is not None and dmt_choices not in _dmt_choices:
        _dmt_choices.append(dmt_choices)


def extend(rows: PatientQuerySet, filters: CaseloadFilters, today: date) -> PatientQuerySet:
    for extension in _extensions:
        rows = extension(rows, filters, today)
    return rows


def dmt_choices() -> list[tuple[str, str]]:
    return [choice for provider in _dmt_choices for choice in provider()]
