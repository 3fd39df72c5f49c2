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
    assert rows["A"]["caption"] == "110 · 权重 60%"
    assert rows["B"]["base"] is None and rows["B"]["caption"] == "— · 权重 40%"


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


# ---- the frames built once (issue 10): the same spec as altair builds whole ----------------

def altair_points_bars(rows, labels):
    """points_bars as it was built before the frame was cached: altair, whole, every call."""
    names = charts.unique([label for label, _points, _weight in rows])
    data = [charts.points_row(name, points, weight, labels) for name, (_l, points, weight) in zip(names, rows)]
    top = max([Decimal(120)] + [Decimal(p) for _label, p, _weight in rows if p is not None])
    y = alt.Y("item:N", sort=names, title=None, axis=alt.Axis(labelLimit=200))
    base = alt.Chart()
    layers = alt.layer(
        base.mark_bar(color=charts.BAR, height=14).encode(
            x=alt.X("base:Q", scale=alt.Scale(domain=[0, float(top)]), title=labels["points"],
                    axis=alt.Axis(values=[0, 50, 100])), y=y),
        base.mark_bar(color=charts.OVER, height=14).encode(x="over_start:Q", x2="over_end:Q", y=y),
        base.mark_rule(color=charts.GRID, strokeWidth=1).encode(x=alt.datum(100)),
        base.mark_text(align="left", dx=4, color="#222").encode(x="end:Q", y=y, text="caption:N"),
        data=alt.Data(values=data))
    return charts.finish(layers.properties(width=charts.WIDTH, height=alt.Step(24)))


def altair_trend_lines(rows, labels, percent=False):
    scale = Decimal(100) if percent else Decimal(1)
    data = [{"week": week, "actual": charts.scaled(actual, scale), "target": charts.scaled(target, scale)}
            for week, actual, target in rows]
    x = alt.X("week:O", title=labels["week"], sort=[row["week"] for row in data])
    base = alt.Chart()
    layers = [base.mark_line(color=charts.BAR, point=True).encode(x=x, y=alt.Y("actual:Q", title=labels["actual"])),
              base.mark_line(color=charts.GRID, strokeDash=[6, 4]).encode(
                  x=x, y=alt.Y("target:Q", title=labels["target"]))]
    return charts.finish(alt.layer(*layers, data=alt.Data(values=data))
                         .properties(width=charts.WIDTH, height=180))


def altair_group_lines(points, labels):
    data = [{"x": x, "group": str(group), "value": charts.scaled(value, Decimal(1))} for x, group, value in points]
    order = list(dict.fromkeys(x for x, _group, _value in points))
    chart = alt.Chart(alt.Data(values=data)).mark_line(point=True).encode(
        x=alt.X("x:O", title=labels["x"], sort=order), y=alt.Y("value:Q", title=labels["y"]),
        color=alt.Color("group:N", title=labels["group"] or None))
    return charts.finish(chart.properties(width=charts.WIDTH, height=200))


def test_points_bars_from_the_cached_frame_equal_the_chart_altair_builds_whole():
    cases = [[("Teamwork", None, 40), ("GMV", 110, 60), ("GMV", 80, 0)],
             [("A", Decimal("87.25"), Decimal("2.5")), ("B", Decimal("250"), 1)],  # a domain past 120
             [("只有一项", None, 0)], []]
    for labels in (LABELS, {"points": "Points (100 = target)", "weight": "%(weight)s items"}):
        for rows in cases:
            spec = charts.points_bars(rows, labels)
            assert json.dumps(spec) == json.dumps(altair_points_bars(rows, labels))  # the order of keys too
    # the cached frame is not changed by a call
    charts.points_bars([("X", 500, 1)], LABELS)
    assert json.dumps(charts.points_bars(cases[0], LABELS)) == json.dumps(altair_points_bars(cases[0], LABELS))


def test_trend_and_group_lines_from_the_cached_frames_equal_the_charts_altair_builds_whole():
    weeks = [("2026-10-05", Decimal("0.2"), Decimal("0.25")), ("2026-09-28", None, None),
             ("2026-10-12", Decimal("1234.5"), None)]
    for labels in (TREND, {"actual": "Actual", "target": "Target", "week": "Week from"}):
        for rows in (weeks, weeks[:1], []):
            for percent in (False, True):
                assert json.dumps(charts.trend_lines(rows, labels, percent)) == \
                    json.dumps(altair_trend_lines(rows, labels, percent))
    points = [("2026-10", "Amazon NA", Decimal("1234.5")), ("2026-11", "Amazon NA", None), ("2026-10", "广告部", 7)]
    for labels in ({"x": "月", "y": "人均GMV", "group": ""}, {"x": "Month", "y": "GMV per head", "group": "Team"}):
        for rows in (points, points[::-1], []):
            assert json.dumps(charts.group_lines(rows, labels)) == json.dumps(altair_group_lines(rows, labels))
