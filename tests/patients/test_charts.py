import re
from datetime import date, timedelta
from decimal import Decimal

from patients.records.charts import (
    ChartSpec,
    Marker,
    Series,
    patient_axis,
    time_axis,
    time_chart,
    value_axis,
)
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


# The axes, as pure functions ------------------------------------------------------------------

TODAY = date(2026, 2, 1)


def test_one_point_gets_half_a_year_around_it_and_room_above_and_below():
    axis = time_axis([date(2025, 6, 1)], [], TODAY)
    assert axis.start <= date(2025, 6, 1) - timedelta(days=90)
    assert axis.end >= date(2025, 6, 1) + timedelta(days=90)
    assert axis.note == ""
    bottom, top, step = value_axis([22.0], None, None)
    assert bottom < 22 < top
    assert (top - bottom) / step <= 10  # a handful of round ticks, not hundreds
    assert bottom == round(bottom / step) * step  # ticks on round numbers


def test_one_value_near_zero_never_gets_a_negative_axis():
    bottom, top, _ = value_axis([0.4], None, None)
    assert bottom == 0
    assert top > 0.4


def test_a_typo_decades_before_treatment_is_clipped_with_a_note():
    dates = [date(1925, 3, 1), *(date(2022 + n // 2, 1 + 6 * (n % 2), 1) for n in range(8))]
    treated = [ChartPeriod(date(2022, 1, 15), None, "Ocrelizumab")]
    axis = time_axis(dates, treated, TODAY)
    assert axis.start.year == 2019  # two years before the first treatment, less padding
    assert "1 earlier point (from Mar 1925) not shown" in axis.note
    assert "first treatment" in axis.note


def test_a_long_true_history_is_kept_when_it_does_not_squash_the_chart():
    # Yearly EDSS since 2012, treated since 2014: nothing is hidden.
    dates = [date(year, 5, 1) for year in range(2012, 2026)]
    axis = time_axis(dates, [ChartPeriod(date(2014, 1, 1), None, "Fingolimod")], TODAY)
    assert axis.start < date(2012, 5, 1)
    assert axis.note == ""


def test_an_untreated_patient_with_one_wrong_old_date_is_clipped_too():
    dates = [date(1901, 1, 1), date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1)]
    axis = time_axis(dates, [], TODAY)
    assert axis.start > date(2020, 1, 1)
    assert "from Jan 1901" in axis.note


def test_a_date_after_today_is_left_off_with_a_note():
    axis = time_axis([date(2025, 1, 1), date(2062, 1, 1)], [], TODAY)
    assert axis.end < date(2027, 1, 1)
    assert "dated after today (01 Jan 2062) not shown" in axis.note


def test_the_chart_prints_the_note_and_leaves_the_clipped_point_off():
    spec = ChartSpec(
        title="ALT",
        series=[
            Series("ALT", [(date(1925, 3, 1), 30), (date(2024, 3, 1), 20), (date(2025, 3, 1), 24)])
        ],
        periods=[ChartPeriod(date(2024, 1, 1), None, "Teriflunomide")],
    )
    svg = time_chart(spec, today=TODAY)
    assert svg.count("<circle") == 2
    assert "not shown" in svg


def test_charts_on_the_patient_axis_share_their_x_positions():
    periods = [ChartPeriod(date(2021, 3, 1), None, "Natalizumab")]
    axis = patient_axis([date(2020, 1, 1), date(2025, 1, 1)], [date(2023, 5, 1)], periods, TODAY)
    edss = time_chart(
        ChartSpec(title="EDSS", series=[Series("EDSS", [(date(2024, 1, 1), 3)])], axis=axis),
        today=TODAY,
    )
    walk = time_chart(
        ChartSpec(title="T25FW", series=[Series("T25FW", [(date(2024, 1, 1), 6.1)])], axis=axis),
        today=TODAY,
    )
    x_of = re.compile(r'<circle cx="([0-9.]+)"')
    assert x_of.findall(edss) == x_of.findall(walk)
    # A year line falls at the same place on both.
    assert re.findall(r'<line x1="([0-9.]+)"[^>]*stroke-dasharray', edss) == re.findall(
        r'<line x1="([0-9.]+)"[^>]*stroke-dasharray', walk
    )


def test_a_value_outside_the_shared_axis_is_named_not_drawn():
    axis = patient_axis([date(2024, 1, 1), date(2025, 1, 1)], [], [], TODAY)
    svg = time_chart(
        ChartSpec(
            title="T25FW",
            series=[Series("T25FW", [(date(2010, 1, 1), 5.0), (date(2024, 6, 1), 6.0)])],
            axis=axis,
        ),
        today=TODAY,
    )
    assert svg.count("<circle") == 1
    assert "1 value outside the shared time axis not shown" in svg
