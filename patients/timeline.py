"""What other parts of Myelin contribute to a patient's page.

The patients app does not import the treatments or referrals code (they depend on it, not the
other way round). Instead each app registers, in its AppConfig.ready(), functions that give:

- timeline events (`register_timeline_source`): everything that happened, by date;
- chart periods (`register_period_source`): spans such as DMT courses, drawn as bands behind
  the EDSS and outcome-measure charts so every chart shares one time axis;
- panels (`register_panel_source`): a titled block on the patient page rendered from a named
  template partial, with its own context.

Each source takes the patient (and, for panels, the request) and must run a fixed number of
queries whatever the patient's history, so the patient page's query count stays pinned.
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
    key: str  # the DOM id of the panel, and the name of its partial
    title: str
    template: str  # "app/page.html#partial-name"
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


TimelineSource = Callable[["Patient"], Iterable[TimelineEvent]]
PeriodSource = Callable[["Patient"], Iterable[ChartPeriod]]
PanelSource = Callable[["HttpRequest", "Patient"], Iterable[Panel]]

_timeline_sources: list[TimelineSource] = []
_period_sources: list[PeriodSource] = []
_panel_sources: list[PanelSource] = []


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    if source not in _timeline_sources:
        _timeline_sources.append(source)
    return source


def register_period_source(source: PeriodSource) -> PeriodSource:
    if source not in _period_sources:
        _period_sources.append(source)
    return source


def register_panel_source(source: PanelSource) -> PanelSource:
    if source not in _panel_sources:
        _panel_sources.append(source)
    return source


def timeline_for(patient: Patient) -> list[TimelineEvent]:
    """All registered events, newest first (ties keep registration order)."""
    events = [event for source in _timeline_sources for event in source(patient)]
    return sorted(events, key=lambda e: e.on, reverse=True)


def periods_for(patient: Patient) -> list[ChartPeriod]:
    periods = [period for source in _period_sources for period in source(patient)]
    return sorted(periods, key=lambda p: p.start)


def panels_for(request: HttpRequest, patient: Patient) -> list[Panel]:
    panels = [panel for source in _panel_sources for panel in source(request, patient)]
    return sorted(panels, key=lambda p: p.order)
