from datetime import date
from decimal import Decimal

from patients.records.charts import ChartSpec, Marker, Series, time_chart
from patients.records.timeline import ChartPeriod


def test_chart_escapes_every_label():
    spec = ChartSpec(
        title="<script>alert(1)</script>",
        series=[
            Series(
                "<b>EDSS</b>",
                [(date(2025, 1, 1), Decimal("2.5")), (date(2026, 1, 1), Decimal("3.0"))],
            )
        ],
        periods=[ChartPeriod(date(2025, 2, 1), None, "<img src=x onerror=alert(1)>")],
        markers=[Marker(date(2025, 6, 1), "Relapse <i>x</i>")],
    )
    svg = time_chart(spec, today=date(2026, 2, 1))
    assert "<script>" not in svg
    assert "<img" not in svg
    assert "&lt;b&gt;EDSS&lt;/b&gt;" in svg


def test_chart_draws_a_point_per_value_and_a_band_per_period():
    spec = ChartSpec(
        title="EDSS",
        series=[
            Series("EDSS", [(date(2025, 1, 1), 2), (date(2025, 7, 1), 3), (date(2026, 1, 1), 3.5)])
        ],
        periods=[ChartPeriod(date(2025, 3, 1), date(2025, 9, 1), "Ocrelizumab")],
        markers=[Marker(date(2025, 5, 1), "Relapse")],
        y_min=0,
        y_max=10,
    )
    svg = time_chart(spec, today=date(2026, 2, 1))
    assert svg.count("<circle") == 3
    assert "Ocrelizumab" in svg
    assert svg.count('class="marker"') == 1


def test_an_empty_chart_still_renders():
    assert time_chart(ChartSpec(title="Nothing yet", series=[]), today=date(2026, 1, 1)).startswith(
        "<svg"
    )


def test_a_date_far_outside_any_life_is_left_off_instead_of_breaking_the_chart():
    # Stored before the forms refused such dates: the chart shows the rest and does not overflow.
    spec = ChartSpec(
        title="EDSS",
        series=[
            Series(
                "EDSS",
                [(date(1, 1, 1), 2), (date(2025, 1, 1), 3), (date(9999, 12, 31), 4)],
            )
        ],
        periods=[ChartPeriod(date(1, 1, 1), None, "Interferon")],
        markers=[Marker(date(1, 1, 1), "Relapse"), Marker(date(2025, 6, 1), "Relapse")],
    )
    svg = time_chart(spec, today=date(2026, 2, 1))
    assert svg.count("<circle") == 1
    assert svg.count('class="marker"') == 1
    assert "Interferon" in svg  # the period is cut to the axis, not dropped


def test_a_long_history_labels_a_readable_number_of_years():
    spec = ChartSpec(
        title="EDSS", series=[Series("EDSS", [(date(1901, 1, 1), 1), (date(2025, 1, 1), 3)])]
    )
    svg = time_chart(spec, today=date(2026, 2, 1))
    assert svg.count('stroke-dasharray="3 3"') <= 12
