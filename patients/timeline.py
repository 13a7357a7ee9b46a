"""What other parts of Myelin contribute to a patient's page.

The patients app does not import the treatments or referrals code (they depend on it, not the
other way round). Instead each app registers, in its AppConfig.ready(), functions that give:

- timeline events (`register_timeline_source`): everything that happened, by date;
- chart periods (`register_period_source`): spans such as DMT courses, drawn as bands behind
  the EDSS and outcome-measure charts so every chart shares one time axis;
- panels (`register_panel_source`): a titled block on the patient page rendered from a named
  template partial, with its own context.

Each source takes the patient (and, for panels, the request) and must run a fixed number of
queries whatever the patient's history.

The patient page itself runs only the period sources (for its chart). Panels and the timeline
are declared here without running them: the page draws a slot for each, and the browser fetches
them in parallel (`patients:panel`, `patients:timeline`), so the page's own query count stays
small and fixed however many apps contribute. Without JavaScript each slot is a link to the
same content as a page of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Patient


@dataclass(frozen=True)
class TimelineEvent:
    on: date
    kind: str  # a short stable key, used as a CSS class and a filter: "edss", "relapse", "dmt", ...
    title: str
    detail: str = ""
    url: str = ""


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


_timeline_sources: list[TimelineSource] = []
_period_sources: list[PeriodSource] = []
_panel_slots: dict[str, PanelSlot] = {}


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    if source not in _timeline_sources:
        _timeline_sources.append(source)
    return source


def register_period_source(source: PeriodSource) -> PeriodSource:
    if source not in _period_sources:
        _period_sources.append(source)
    return source


def register_panel_source(
    source: PanelSource, *, key: str, title: str, category: str, order: int = 100
) -> PanelSource:
    _panel_slots[key] = PanelSlot(key, title, source, category, order)
    return source


def timeline_for(patient: Patient) -> list[TimelineEvent]:
    """All registered events, newest first (ties keep registration order)."""
    events = [event for source in _timeline_sources for event in source(patient)]
    return sorted(events, key=lambda e: e.on, reverse=True)


def periods_for(patient: Patient) -> list[ChartPeriod]:
    periods = [period for source in _period_sources for period in source(patient)]
    return sorted(periods, key=lambda p: p.start)


def panel_slots() -> list[PanelSlot]:
    return sorted(_panel_slots.values(), key=lambda slot: slot.order)


def panel_slot(key: str) -> PanelSlot | None:
    return _panel_slots.get(key)


def panel_for(request: HttpRequest, patient: Patient, key: str) -> Panel:
    return _panel_slots[key].source(request, patient)
