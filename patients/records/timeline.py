"""What the patient page is made of: timeline events, chart periods and panels.

The list of what each part of Myelin contributes is in one place, `clinic/settings.py`
(PATIENT_PAGE_TIMELINE, PATIENT_PAGE_PERIODS, PATIENT_PAGE_PANELS), as dotted paths, so the
patients app never imports treatments (which depends on it) and a newcomer reads the whole page
in one list:

- timeline events: everything that happened, by date;
- chart periods: spans such as DMT courses, drawn as bands behind the EDSS and outcome-measure
  charts so every chart shares one time axis;
- panels: a titled block on the patient page rendered from a named template partial;
- header facts (PATIENT_PAGE_HEADER): lines of the patient header (current DMT, next monitoring,
  overdue items, open alerts), computed from annotations the source adds to the one query that
  loads the patient, so they cost the page no query of their own.

Each source takes the patient (and, for panels, the request) and must run a fixed number of
queries whatever the patient's history.

The patient page itself runs only the period sources (for its chart). Panels and the timeline
are declared without running them: the page draws a slot for each, and the browser fetches them
in parallel (`patients:panel`, `patients:timeline`), so the page's own query count stays small
and fixed however many parts contribute. Without JavaScript each slot is a link to the same
content as a page of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Patient, PatientQuerySet


@dataclass(frozen=True)
class TimelineEvent:
    on: date
    kind: str  # a short stable key, used as a CSS class and a filter: "edss", "relapse", "dmt", ...
    title: str
    detail: str = ""
    url: str = ""
    # A corrected record is still shown, struck through, with this line: who, when and why
    # (`correction_line`). Empty for a record that stands.
    correction: str = ""


def correction_line(record: Any) -> str:
    """ "Entered in error 3 Mar 2026 by Dr Ada Reyes: wrong patient" for a corrected record
    (a `patients.models.corrections.Correctable` row, `corrected_by` loaded), else ""."""
    if not getattr(record, "correction", ""):
        return ""
    when = timezone.localtime(record.corrected_at).strftime("%d %b %Y")
    who = f" by {record.corrected_by.display_name}" if record.corrected_by else ""
    return f"{record.get_correction_display()} {when}{who}: {record.correction_reason}"


@dataclass(frozen=True)
class ChartPeriod:
    start: date
    end: date | None  # None: still running
    label: str
    kind: str = "dmt"


@dataclass(frozen=True)
class Panel:
    """What a panel source returns: the partial to render and its context."""

    template: str  # "app/page.html#partial-name"
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeaderFact:
    """One line of the patient header: a label, its words, the items it names."""

    label: str
    text: str
    detail: Sequence[str] = ()  # the items behind a count, by name
    tone: str = ""  # "", "muted", "warning", "critical"
    url: str = ""


@dataclass(frozen=True)
class HeaderSource:
    """Adds its annotations to the patient's query, then reads them back as header facts."""

    annotate: Callable[[PatientQuerySet, date], PatientQuerySet]
    facts: Callable[[Patient, date], Iterable[HeaderFact]]


TimelineSource = Callable[["Patient"], Iterable[TimelineEvent]]
PeriodSource = Callable[["Patient"], Iterable[ChartPeriod]]
PanelSource = Callable[["HttpRequest", "Patient"], Panel]


@dataclass(frozen=True)
class PanelSlot:
    """A panel's place on the patient page, known without running any query."""

    key: str  # the DOM id of the panel and its URL segment
    title: str
    source: PanelSource
    category: str  # what the access trail records when the panel is opened
    order: int = 100


@functools.cache
def _timeline_sources() -> list[TimelineSource]:
    return [import_string(path) for path in settings.PATIENT_PAGE_TIMELINE]


@functools.cache
def _period_sources() -> list[PeriodSource]:
    return [import_string(path) for path in settings.PATIENT_PAGE_PERIODS]


@functools.cache
def _panel_slots() -> dict[str, PanelSlot]:
    return {
        key: PanelSlot(key, title, import_string(path), category, order)
        for order, (key, title, category, path) in enumerate(settings.PATIENT_PAGE_PANELS)
    }


@functools.cache
def _header_sources() -> list[HeaderSource]:
    return [import_string(path) for path in settings.PATIENT_PAGE_HEADER]


def with_header(rows: PatientQuerySet, today: date) -> PatientQuerySet:
    """The patient query with every header source's annotations (no query of its own)."""
    for source in _header_sources():
        rows = source.annotate(rows, today)
    return rows


def header_facts(patient: Patient, today: date) -> list[HeaderFact]:
    return [fact for source in _header_sources() for fact in source.facts(patient, today)]


def timeline_for(patient: Patient) -> list[TimelineEvent]:
    """All declared events, newest first (ties keep the declared order)."""
    events = [event for source in _timeline_sources() for event in source(patient)]
    return sorted(events, key=lambda e: e.on, reverse=True)


def periods_for(patient: Patient) -> list[ChartPeriod]:
    periods = [period for source in _period_sources() for period in source(patient)]
    return sorted(periods, key=lambda p: p.start)


def panel_slots() -> list[PanelSlot]:
    return sorted(_panel_slots().values(), key=lambda slot: slot.order)


def panel_slot(key: str) -> PanelSlot | None:
    return _panel_slots().get(key)


def panel_for(request: HttpRequest, patient: Patient, key: str) -> Panel:
    return _panel_slots()[key].source(request, patient)
