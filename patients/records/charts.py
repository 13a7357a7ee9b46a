"""Server-rendered SVG charts: no JavaScript library, no external asset, CSP-clean.

`time_chart` draws one or more series of (date, value) points on a shared time axis, with
period bands (DMT courses) behind them, point markers (relapses) along the top, and an optional
reference band (a lab's normal range). Templates include the returned markup with |safe: every
label is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from clinic.dates import EARLIEST_DATE
from patients.records.timeline import ChartPeriod

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 28
PALETTE = ["#1d5c8c", "#b3261e", "#1e7a46", "#a35c00", "#6b3fa0"]
PERIOD_FILLS = ["#e3eef8", "#eef5e6", "#fbeee0", "#f1e8f7"]


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[date, Decimal | float | int]]


@dataclass(frozen=True)
class Marker:
    on: date
    label: str


@dataclass(frozen=True)
class ChartSpec:
    title: str
    series: Sequence[Series]
    periods: Sequence[ChartPeriod] = ()
    markers: Sequence[Marker] = ()
    y_min: float | None = None
    y_max: float | None = None
    y_step: float | None = None
    reference_band: tuple[float, float] | None = None
    unit: str = ""
    start: date | None = None
    end: date | None = None
    extra_dates: Sequence[date] = field(default_factory=tuple)
    axis: Axis | None = None  # a time axis shared with another chart (see patient_axis)


@dataclass(frozen=True)
class Axis:
    """A chart's time axis: the days it spans, and why points were left off, if any were."""

    start: date
    end: date
    note: str = ""


# The axis never reaches beyond these: a date outside them (a typo such as 0001-01-01 stored
# before the forms refused it) is left off the chart instead of stretching the axis over two
# thousand years and overflowing date arithmetic near `date.min`.
CHART_EARLIEST = EARLIEST_DATE
CHART_YEARS_AHEAD = 100
# At most this many year lines on the axis: a long history labels every 2nd, 5th ... year.
MAX_YEAR_LINES = 12


def _window(today: date) -> tuple[date, date]:
    return CHART_EARLIEST, date(min(today.year + CHART_YEARS_AHEAD, 9000), 1, 1)


def _clipped(spec: ChartSpec, today: date) -> ChartSpec:
    """The spec without the points and markers outside the window, periods cut to it."""
    low, high = _window(today)

    def inside(day: date) -> bool:
        return low <= day <= high

    periods = [
        replace(p, start=max(p.start, low), end=min(p.end, high) if p.end else None)
        for p in spec.periods
        if p.start <= high and (p.end is None or p.end >= low)
    ]
    return replace(
        spec,
        series=[Series(s.label, [(d, v) for d, v in s.points if inside(d)]) for s in spec.series],
        periods=periods,
        markers=[m for m in spec.markers if inside(m.on)],
        extra_dates=[d for d in spec.extra_dates if inside(d)],
        start=min(max(spec.start, low), high) if spec.start else None,
        end=min(max(spec.end, low), high) if spec.end else None,
    )


# An axis spans at least this many days: one point, or a few in one month, sit in a readable
# half-year around them instead of filling the width.
MIN_SPAN_DAYS = 180
# How far before the first treatment the axis may reach when older points would squash it.
BEFORE_TREATMENT_DAYS = 730


def time_axis(
    dates: Sequence[date],
    periods: Sequence[ChartPeriod],
    today: date,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Axis:
    """The time axis for points on `dates` and bands `periods` (pure: no database, no clock).

    - Points after today are typing errors: they are left off, with a note.
    - A point far older than the rest (a typo such as 1925 for 2025, or a record decades
      before any treatment) would squash everything else into a sliver: when what lies before
      the treated period (from two years before the first treatment; without treatment, two
      years before the median point) would take more than half the width, the axis starts
      there instead and a note says how many points are not shown and since when.
    - One point, or points close together, get at least half a year around them.
    """
    notes = []
    future = [d for d in dates if d > today]
    dates = sorted(d for d in dates if d <= today)
    if future:
        notes.append(
            f"{_count(len(future), 'point')} dated after today "
            f"({', '.join(f'{d:%d %b %Y}' for d in sorted(future)[:3])}) not shown."
        )
    first = min([*dates, *(p.start for p in periods)], default=None)
    if start is None and dates and first is not None:
        anchor = min(p.start for p in periods) if periods else dates[len(dates) // 2]
        floor = anchor - timedelta(days=BEFORE_TREATMENT_DAYS)
        last = max([dates[-1], today])
        if first < floor and (floor - first) > (last - floor):
            hidden = [d for d in dates if d < floor]
            if hidden:
                notes.append(
                    f"{_count(len(hidden), 'earlier point')} (from {hidden[0]:%b %Y}) not "
                    f"shown: the chart starts {floor:%b %Y}, "
                    + ("two years before the first treatment." if periods else "to stay readable.")
                )
            start = floor
    if start is None:
        start = first if first is not None else today - timedelta(days=365)
    if end is None:
        end = max([*dates, today]) if dates else today
    if len(set(dates)) == 1:  # one point: room on both sides of it, whenever it was
        half = timedelta(days=MIN_SPAN_DAYS // 2)
        start, end = min(start, dates[0] - half), max(end, dates[0] + half)
    if (end - start).days < MIN_SPAN_DAYS:
        middle = start + (end - start) / 2
        start = middle - timedelta(days=MIN_SPAN_DAYS // 2)
        end = middle + timedelta(days=MIN_SPAN_DAYS // 2)
    pad = max(7, (end - start).days // 40)
    return Axis(start - timedelta(days=pad), end + timedelta(days=pad), " ".join(notes))


def patient_axis(
    edss_dates: Sequence[date],
    relapse_dates: Sequence[date],
    periods: Sequence[ChartPeriod],
    today: date,
) -> Axis:
    """The patient's time axis: the EDSS chart's, which the outcome-measure charts share so a
    change in one lines up with the other."""
    return time_axis([*edss_dates, *relapse_dates], periods, today)


def value_axis(
    values: Sequence[float], low: float | None, high: float | None
) -> tuple[float, float, float]:
    """(bottom, top, step) of the value axis: the given bounds, else nice round numbers around
    the values; one value (or equal values) gets room above and below it."""
    if low is not None and high is not None and high > low:
        return low, high, _nice_step(high - low)
    lo = low if low is not None else (min(values) if values else 0.0)
    hi = high if high is not None else (max(values) if values else 1.0)
    if hi <= lo:
        pad = max(abs(hi) * 0.2, 1.0)
        if high is None:
            hi = hi + pad
        if low is None:
            lo = lo - pad if lo - pad >= 0 or lo < 0 else 0.0
        if hi <= lo:
            hi = lo + pad
    step = _nice_step(hi - lo)
    if low is None:
        lo = math.floor(lo / step + 1e-9) * step
    if high is None:
        hi = math.ceil(hi / step - 1e-9) * step
    return lo, hi, step


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _year_step(first: int, last: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if (last - first) // step < MAX_YEAR_LINES:
            return step
    return max(1, (last - first) // MAX_YEAR_LINES + 1)


def time_chart(spec: ChartSpec, *, today: date) -> str:
    spec = _clipped(spec, today)
    dates = [d for s in spec.series for d, _ in s.points]
    axis = spec.axis or time_axis(
        [*dates, *(m.on for m in spec.markers), *spec.extra_dates],
        spec.periods,
        today,
        start=spec.start,
        end=spec.end,
    )
    start, end = axis.start, axis.end
    note = axis.note
    shown = [
        Series(s.label, [(d, v) for d, v in s.points if start <= d <= end]) for s in spec.series
    ]
    if spec.axis is not None:  # a shared axis: say what falls outside it
        outside = len(dates) - sum(len(s.points) for s in shown)
        if outside:
            note = f"{_count(outside, 'value')} outside the shared time axis not shown."
    spec = replace(spec, series=shown, markers=[m for m in spec.markers if start <= m.on <= end])
    values = [float(v) for s in spec.series for _, v in s.points]
    if spec.reference_band:
        values += list(spec.reference_band)
    y_min, y_max, step = value_axis(values, spec.y_min, spec.y_max)
    if spec.y_step:
        step = spec.y_step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    total_days = (end - start).days or 1

    def x(day: date) -> float:
        return LEFT + plot_w * ((day - start).days / total_days)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_min) / (y_max - y_min))

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(spec.title)}">',
        f"<title>{escape(spec.title)}</title>",
    ]
    for index, period in enumerate(spec.periods):
        x0 = max(x(period.start), LEFT)
        x1 = min(x(period.end or end), LEFT + plot_w)
        if x1 <= x0:
            continue
        fill = PERIOD_FILLS[index % len(PERIOD_FILLS)]
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}" fill="{fill}">'
            f"<title>{escape(period.label)}</title></rect>"
            f'<text x="{x0 + 3:.1f}" y="{TOP + plot_h - 4}">{escape(period.label)}</text>'
        )
    if spec.reference_band:
        low, high = spec.reference_band
        parts.append(
            f'<rect x="{LEFT}" y="{y(high):.1f}" width="{plot_w}" height="{max(y(low) - y(high), 0):.1f}" '
            f'fill="#e7f5ec" opacity="0.8"><title>Reference range {low:g}–{high:g}</title></rect>'
        )
    tick = y_min
    while tick <= y_max + 1e-9:
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e2e6eb"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
        tick += step
    step_years = _year_step(start.year + 1, end.year)
    for year in range(start.year + 1, end.year + 1):
        if year % step_years:
            continue
        xx = x(date(year, 1, 1))
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#cfd5dc" stroke-dasharray="3 3"/>'
            f'<text x="{xx:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{year}</text>'
        )
    for marker in spec.markers:
        xx = x(marker.on)
        parts.append(
            f'<g class="marker"><line x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP - 8}" y2="{TOP + plot_h}" stroke="#b3261e" stroke-width="1" opacity="0.5"/>'
            f'<path d="M{xx - 5:.1f},{TOP - 14} L{xx + 5:.1f},{TOP - 14} L{xx:.1f},{TOP - 6} Z" fill="#b3261e">'
            f"<title>{escape(marker.label)}</title></path></g>"
        )
    for index, series in enumerate(spec.series):
        colour = PALETTE[index % len(PALETTE)]
        points = sorted(series.points)
        if len(points) > 1:
            path = " ".join(f"{x(d):.1f},{y(float(v)):.1f}" for d, v in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for d, v in points:
            parts.append(
                f'<circle cx="{x(d):.1f}" cy="{y(float(v)):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(series.label)} {v:g}{escape(spec.unit)} on {d:%d %b %Y}</title></circle>"
            )
    if len(spec.series) > 1:
        for index, series in enumerate(spec.series):
            parts.append(
                f'<text x="{LEFT + 6 + index * 150}" y="{TOP - 10}" fill="{PALETTE[index % len(PALETTE)]}">'
                f"■ {escape(series.label)}</text>"
            )
    parts.append("</svg>")
    if note:
        parts.append(f'<p class="muted chart-note">{escape(note)}</p>')
    return "".join(parts)


def _nice_step(span: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if span / step <= 8:
            return float(step)
    return span / 8
