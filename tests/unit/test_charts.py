"""kpiapp.charts: one Vega-Lite spec per chart, rendered to SVG for the PDFs."""

import json
from decimal import Decimal

import altair as alt

from kpiapp import charts

LABELS = {"points": "得分", "weight": "权重 %(weight)s%%", "share": "占比"}


def layer_values(spec):
    data = spec["data"]  # one data set for every layer
    return data["values"] if "values" in data else spec["datasets"][data["name"]]


def test_points_spec_is_vega_lite_and_keeps_the_item_order():
    spec = charts.points_bars([("Teamwork", None, 40), ("GMV", 110, 60), ("GMV", 80, 0)], LABELS)
    assert "vega-lite" in spec["$schema"]
    y = spec["layer"][0]["encoding"]["y"]
    assert y["sort"] == ["Teamwork", "GMV", "GMV (2)"]  # an item without points stays first
    json.dumps(spec)  # plain JSON: it goes into the page as is


def test_points_rows_split_stretch_from_the_part_up_to_100():
    rows = {r["item"]: r for r in layer_values(charts.points_bars([("A", 110, 60), ("B", None, 40)], LABELS))}
    assert (rows["A"]["base"], rows["A"]["over_start"], rows["A"]["over_end"]) == (100.0, 100.0, 110.0)
    assert rows["A"]["caption"] == "110  权重 60%"
    assert rows["B"]["base"] is None and rows["B"]["caption"] == "—  权重 40%"


def test_svg_draws_chinese_labels_and_escapes_markup():
    spec = charts.points_bars([("<script>x</script>", 110, 60), ("退货率", 50, 40)], LABELS)
    svg = str(charts.svg(spec))
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    assert "退货率" in svg and "得分" in svg and "权重 60%" in svg


def test_grade_bars_mark_the_quota_and_an_exceeded_grade():
    grades = [
        {"grade": "S", "count": 1, "max_share": Decimal("0.10"), "over": True},
        {"grade": "B", "count": 3, "max_share": None, "over": False},
    ]
    rows = {r["grade"]: r for r in layer_values(charts.grade_bars(grades, LABELS))}
    assert rows["S"] == {"grade": "S", "share": 25.0, "quota": 10.0, "end": 25.0, "state": "over",
                         "caption": "1 · 25%"}
    assert rows["B"]["quota"] is None and rows["B"]["state"] == "ok"
    assert ">S<" in str(charts.svg(charts.grade_bars(grades, LABELS)))


TREND = {"actual": "实际", "target": "目标", "week": "周"}


def test_trend_lines_keep_weeks_in_order_and_gaps_as_gaps():
    spec = charts.trend_lines([("2026-10-05", Decimal("0.2"), Decimal("0.25")), ("2026-09-28", None, None)],
                              TREND, percent=True)
    assert layer_values(spec) == [{"week": "2026-10-05", "actual": 20.0, "target": 25.0},
                                  {"week": "2026-09-28", "actual": None, "target": None}]
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["2026-10-05", "2026-09-28"]
    assert spec["layer"][1]["mark"]["strokeDash"] == [6, 4]
    assert "实际" in str(charts.svg(spec))
    alt.LayerChart.from_dict(spec, validate=True)


def test_group_lines_draw_one_line_per_group():
    spec = charts.group_lines([("2026-10", "Amazon NA", Decimal("1234.5")), ("2026-11", "Amazon NA", None),
                               ("2026-10", "广告部", 7)], {"x": "月", "y": "人均GMV", "group": ""})
    assert spec["data"]["values"][0] == {"x": "2026-10", "group": "Amazon NA", "value": 1234.5}
    assert spec["data"]["values"][1]["value"] is None
    assert spec["encoding"]["x"]["sort"] == ["2026-10", "2026-11"]
    assert "广告部" in str(charts.svg(spec))
    alt.Chart.from_dict(spec, validate=True)


def test_specs_validate_against_the_vega_lite_schema():
    grades = [{"grade": "A", "count": 2, "max_share": Decimal("0.20"), "over": False}]
    points = charts.points_bars([("A", 110, 60), ("B", None, 40)], LABELS)
    for spec in (points, charts.grade_bars(grades, LABELS)):
        alt.LayerChart.from_dict(spec, validate=True)  # raises on a spec Vega-Lite would reject


PACE_LABELS = {"actual": "实际累计", "expected": "应达进度", "day": "日期", "value": "数值"}


def test_pace_lines_two_series_by_day_and_a_gap_for_no_data():
    from datetime import date

    rows = [(date(2026, 11, 1), Decimal("100"), Decimal("100")), (date(2026, 11, 2), None, Decimal("200"))]
    spec = charts.pace_lines(rows, PACE_LABELS)
    assert "vega-lite" in spec["$schema"]
    assert layer_values(spec) == [
        {"day": "2026-11-01", "series": "实际累计", "value": 100.0},
        {"day": "2026-11-01", "series": "应达进度", "value": 100.0},
        {"day": "2026-11-02", "series": "实际累计", "value": None},
        {"day": "2026-11-02", "series": "应达进度", "value": 200.0},
    ]
    alt.Chart.from_dict(spec, validate=True)  # valid against the Vega-Lite schema
    svg = str(charts.svg(spec))
    assert "实际累计" in svg and "应达进度" in svg  # one spec for the page and the PDF


def test_pace_lines_share_a_cached_frame_but_not_their_data():
    from datetime import date

    one = charts.pace_lines([(date(2026, 11, 1), Decimal("1"), Decimal("2"))], {**PACE_LABELS, "value": "GMV"})
    two = charts.pace_lines([(date(2026, 11, 1), Decimal("3"), None)], {**PACE_LABELS, "value": "ACoS"})
    assert (one["encoding"]["y"]["title"], two["encoding"]["y"]["title"]) == ("GMV", "ACoS")
    assert layer_values(one)[0]["value"] == 1.0 and layer_values(two)[0]["value"] == 3.0
    assert charts.pace_lines_frame("实际累计", "应达进度", "日期")["data"] == {"values": []}  # no caller's data
def test_metric_lines_keep_no_data_as_a_gap_and_validate():
    points = [("2026-10-05", "CVR", Decimal("0.125")), ("2026-10-12", "CVR", None),
              ("2026-10-05", "ACoS", Decimal("0.3"))]
    spec = charts.metric_lines(points, {"bucket": "周", "value": "比率"}, fraction=True)
    assert layer_values(spec) == [{"bucket": "2026-10-05", "metric": "CVR", "value": 0.125},
                                  {"bucket": "2026-10-12", "metric": "CVR", "value": None},
                                  {"bucket": "2026-10-05", "metric": "ACoS", "value": 0.3}]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%" and spec["encoding"]["y"]["title"] == "比率"
    alt.Chart.from_dict(spec, validate=True)
    assert "周" in str(charts.svg(spec))
