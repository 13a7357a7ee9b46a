"""The dashboard's trends as server-rendered SVG (patients.records.charts.time_chart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from patients.records.charts import ChartSpec, Series, time_chart
from treatments.quality.services import JCV, MRI, Dashboard, MonthPoint


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    empty: bool


def _points(points: list[MonthPoint]) -> list[tuple[date, float]]:
    # Plotted mid-month: each value is the month's.
    return [(p.month.replace(day=15), p.value) for p in points if p.value is not None]


def trend_charts(board: Dashboard, *, today: date) -> list[Chart]:
    period, monitoring = board.period, board.monitoring
    percent = [
        (
            "Done within the window, by month (%)",
            [
                Series("All monitoring", _points(monitoring.trend["all"])),
                Series("Brain MRI", _points(monitoring.trend[MRI])),
                Series("JCV antibody", _points(monitoring.trend[JCV])),
            ],
        ),
        (
            "EDSS in the last 12 months and referrals answered in target (%)",
            [
                Series("EDSS recorded", _points(board.edss.trend)),
                Series("Referrals in target", _points(board.referrals.trend)),
            ],
        ),
    ]
    charts = []
    for title, series in percent:
        shown = [s for s in series if s.points]
        charts.append(
            Chart(
                title,
                time_chart(
                    ChartSpec(
                        title=title,
                        series=shown,
                        y_min=0,
                        y_max=100,
                        y_step=20,
                        unit="%",
                        start=period.start,
                        end=period.end,
                    ),
                    today=today,
                ),
                empty=not shown,
            )
        )
    hours = _points(board.acknowledgement.trend)
    title = "Median hours from abnormal result to acknowledgement, by month"
    charts.append(
        Chart(
            title,
            time_chart(
                ChartSpec(
                    title=title,
                    series=[Series("Median hours", hours)] if hours else [],
                    y_min=0,
                    unit=" h",
                    start=period.start,
                    end=period.end,
                ),
                today=today,
            ),
            empty=not hours,
        )
    )
    return charts
