"""SVG geometry for the dashboards."""

from datetime import date, timedelta

from analytics import charts


def test_it_scales_bars_to_the_drawing_area():
    chart = charts.hbars([("Mobile", "3 (75%)", 1.0), ("Desktop", "1 (25%)", 1 / 3)])
    assert [b.width for b in chart["bars"]] == [charts.BAR_AREA, charts.BAR_AREA / 3]
    assert chart["bars"][1].text_x == charts.LABEL_WIDTH + charts.BAR_AREA / 3 + 6
    assert [b.y for b in chart["bars"]] == [0, charts.BAR_HEIGHT]
    assert chart["height"] == 2 * charts.BAR_HEIGHT


def test_it_draws_one_polyline_per_series_with_a_point_per_day():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(3)]
    chart = charts.lines({"click": [0, 4, 2], "conversion": [0, 0, 0]}, days, width=200)
    click, conversion = chart["lines"]
    assert len(click.points.split()) == 3
    assert click.total == 6
    ys = [float(p.split(",")[1]) for p in click.points.split()]
    assert ys[0] == chart["baseline"] and ys[1] < ys[2] < ys[0]  # higher counts are drawn higher
    assert [label["label"] for label in chart["labels"]] == ["Jan 1", "Jan 2", "Jan 3"]


def test_it_draws_an_all_zero_series_on_the_baseline():
    days = [date(2025, 1, 1)]
    chart = charts.lines({"click": [0]}, days)
    x, y = chart["lines"][0].points.split(",")
    assert float(y) == chart["baseline"]
