"""Charts as Vega-Lite specifications (built with altair), one spec per chart for every medium.

A web page embeds the spec for vega-embed (templates/_macros/charts.html + static/charts.js);
a PDF gets `svg(spec)`, the same spec rendered to static SVG by vl-convert. No Flask here:
the caller passes translated labels, so the module is pure data in, spec out.
"""

from decimal import Decimal
from functools import lru_cache

import altair as alt
import vl_convert
from markupsafe import Markup

FONT = "Noto Sans CJK SC, Noto Sans, sans-serif"
BAR, OVER, ALARM, GRID = "#2f6f9f", "#3a8a4f", "#b5462f", "#9aa5b1"
WIDTH = 420
CONFIG = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelColor": "#222", "gridColor": "#e3e7eb"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11},  # Vega-Lite's 10 px read small on a phone
    "text": {"fontSize": 11},
}


def num(value, places=2):
    text = f"{Decimal(value):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def points_bars(rows, labels):
    """Bars of points per KPI item against 100, with each item's weight beside it.

    rows: [(label, points or None, weight)]; labels: {"points", "weight"} already translated
    ("weight" a %-format with `weight`). Points above 100 (stretch) extend past the 100
    line in another colour; a missing score shows as "—".
    """
    names = unique([label for label, _points, _weight in rows])
    data = [points_row(name, points, weight, labels) for name, (_label, points, weight) in zip(names, rows)]
    top = max([Decimal(120)] + [Decimal(p) for _label, p, _weight in rows if p is not None])
    frame = points_bars_frame(str(labels["points"]))
    layers = []
    for layer in frame["layer"]:
        encoding = dict(layer["encoding"])
        if "y" in encoding:  # an explicit order: a layer without a bar for an item would move it last
            encoding["y"] = {**encoding["y"], "sort": names}
        if "scale" in encoding["x"]:
            encoding["x"] = {**encoding["x"], "scale": {"domain": [0, float(top)]}}
        layers.append({**layer, "encoding": encoding})
    return {**frame, "layer": layers, "data": {"values": data}}


@lru_cache(maxsize=64)
def points_bars_frame(points_label):
    """The points chart without its data, its item order (y sort) or its x domain: altair cost
    ~7 ms a chart (more under load; the company dashboard draws two a request), so it is built
    once per label; `points_bars` puts the rest in. Callers copy it, never change it.
    tests/unit/test_charts.py checks the result equals the chart built whole by altair."""
    y = alt.Y("item:N", sort=[], title=None, axis=alt.Axis(labelLimit=200))
    base = alt.Chart()
    layers = alt.layer(
        base.mark_bar(color=BAR, height=14).encode(
            x=alt.X("base:Q", scale=alt.Scale(domain=[0, 0]), title=points_label,
                    axis=alt.Axis(values=[0, 50, 100])), y=y
        ),
        base.mark_bar(color=OVER, height=14).encode(x="over_start:Q", x2="over_end:Q", y=y),
        base.mark_rule(color=GRID, strokeWidth=1).encode(x=alt.datum(100)),
        base.mark_text(align="left", dx=4, color="#222").encode(x="end:Q", y=y, text="caption:N"),
        data=alt.Data(values=[]),
    )
    return finish(layers.properties(width=WIDTH, height=alt.Step(24)))


def unique(names):
    """Item names made distinct ("Sales", "Sales (2)"): the chart's rows are keyed by name."""
    seen, out = {}, []
    for name in map(str, names):
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def points_row(label, points, weight, labels):
    # SVG text folds two spaces into one: "81.35 4 人" read as one number, so a dot parts them
    weight_text = labels["weight"] % {"weight": num(weight or 0)}
    row = {"item": label, "base": None, "over_start": None, "over_end": None, "end": 0}
    if points is None:
        return {**row, "caption": f"— · {weight_text}"}
    points = Decimal(points)
    row.update(base=float(min(points, Decimal(100))), end=float(max(points, Decimal(0))))
    if points > 100:
        row.update(over_start=100.0, over_end=float(points))
    return {**row, "caption": f"{num(points)} · {weight_text}"}


def grade_bars(grades, labels):
    """Bars of each grade's share of the graded people, the grade's quota as a tick (if any).

    grades: [{"grade", "count", "max_share" (a fraction or None), "over" (bool)}]; labels: {"share"}.
    """
    total = sum(g["count"] for g in grades) or 1
    spec = dict(grade_bars_frame(tuple(str(g["grade"]) for g in grades), labels["share"]))
    return {**spec, "data": {"values": [grade_row(g, total) for g in grades]}}


@lru_cache(maxsize=64)
def grade_bars_frame(order, share_label):
    """The grade chart without its data (building it with altair costs ~50 ms; pages ask
    on every request): one per grade order and label. Callers copy it, never change it."""
    y = alt.Y("grade:N", sort=list(order), title=None)
    x_scale = alt.Scale(domain=[0, 100])
    base = alt.Chart()
    colour = alt.Color("state:N", scale=alt.Scale(domain=["ok", "over"], range=[BAR, ALARM]), legend=None)
    layers = alt.layer(
        base.mark_bar(height=14).encode(
            x=alt.X("share:Q", scale=x_scale, title=share_label), y=y, color=colour
        ),
        base.mark_tick(color="#222", thickness=2, size=20).encode(x="quota:Q", y=y),
        base.mark_text(align="left", dx=4, color="#222").encode(x="end:Q", y=y, text="caption:N"),
        data=alt.Data(values=[]),
    )
    return finish(layers.properties(width=WIDTH, height=alt.Step(22)))


def grade_row(grade, total):
    share = grade["count"] * 100 / total
    quota = float(grade["max_share"]) * 100 if grade.get("max_share") is not None else None
    return {
        "grade": grade["grade"],
        "share": round(share, 1),
        "quota": quota,
        "end": max(round(share, 1), quota or 0),  # the caption starts right of the bar and the tick
        "state": "over" if grade.get("over") else "ok",
        "caption": f"{grade['count']} · {num(share, 1)}%",
    }


def pace_lines(rows, labels):
    """An item's pace: actual to date (solid) and expected to date (dashed) by day.

    rows: [(day, actual or None, expected or None)] (kpiapp.tracking.paces.pace_series);
    labels: {"actual", "expected", "day", "value"} already translated. A day without data
    leaves a gap in the actual line, never a drop to 0."""
    data = [{"day": day.isoformat(), "series": labels[key], "value": None if value is None else float(value)}
            for day, actual, expected in rows for key, value in (("actual", actual), ("expected", expected))]
    spec = dict(pace_lines_frame(labels["actual"], labels["expected"], labels["day"]))
    encoding = {**spec["encoding"], "y": {**spec["encoding"]["y"], "title": str(labels["value"])}}
    return {**spec, "encoding": encoding, "data": {"values": data}}


@lru_cache(maxsize=64)
def pace_lines_frame(actual, expected, day):
    """The pace chart without its data and y title (altair costs ~150 ms a chart), cached per
    language's labels. Callers copy it, never change it."""
    series = [actual, expected]
    line = alt.Chart(alt.Data(values=[])).mark_line(interpolate="linear").encode(
        x=alt.X("day:T", title=day, axis=alt.Axis(format="%m-%d", labelAngle=0)),
        y=alt.Y("value:Q", title=""),
        color=alt.Color("series:N", sort=series, scale=alt.Scale(domain=series, range=[BAR, GRID]),
                        legend=alt.Legend(title=None, orient="bottom")),
        strokeDash=alt.StrokeDash("series:N", sort=series,
                                  scale=alt.Scale(domain=series, range=[[1, 0], [5, 4]]), legend=None),
    )
    return finish(line.properties(width=WIDTH, height=180))
def metric_lines(points, labels, fraction=False):
    """Lines of metrics over time buckets, one colour a metric.

    points: [(bucket label, metric name, value or None)], buckets in time order (their labels
    start with an ISO date or month, so they sort as they read); labels: {"bucket", "value"}
    already translated; `fraction`: values are fractions, the axis reads in percent. A None
    is a gap ("no data"), never a zero.
    """
    frame = metric_lines_frame(labels["bucket"], labels["value"], fraction)
    values = [{"bucket": bucket, "metric": metric, "value": None if value is None else float(value)}
              for bucket, metric, value in points]
    return {**frame, "data": {"values": values}}


@lru_cache(maxsize=64)
def metric_lines_frame(bucket_label, value_label, fraction):
    """The lines chart without its data, one per labels (see grade_bars_frame). Callers copy it."""
    axis = alt.Axis(format=".0%" if fraction else ",.0f")
    chart = alt.Chart(alt.Data(values=[])).mark_line(point=True).encode(
        x=alt.X("bucket:O", title=bucket_label, axis=alt.Axis(labelAngle=-45, labelLimit=160)),
        y=alt.Y("value:Q", title=value_label, axis=axis),
        color=alt.Color("metric:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("bucket:O", title=bucket_label), alt.Tooltip("metric:N", title=None),
                 alt.Tooltip("value:Q", title=value_label, format=".2%" if fraction else ",.2f")],
    )
    return finish(chart.properties(width=WIDTH, height=220))


def finish(chart):
    # altair's schema validation costs about 25 ms a chart, once per signed report; the
    # specs are fixed code, so tests/unit/test_charts.py validates them instead
    return chart.configure(**CONFIG).to_dict(validate=False)


def svg(spec, font=None):
    """The spec as static SVG (for WeasyPrint): vega's own renderer, text escaped by it.

    `font` (a font-family list) replaces FONT, so a PDF's chart uses the document's fonts."""
    if font is not None:
        spec = {**spec, "config": {**spec.get("config", {}), "font": font}}
    return Markup(vl_convert.vegalite_to_svg(spec))


def trend_lines(rows, labels, percent=False):
    """A weekly line of actuals with the target as a dashed line; weeks without data are
    gaps, never 0.

    rows: [(week label, actual or None, target or None)]; labels: {"actual", "target", "week"}.
    `percent`: the values are fractions, drawn ×100.
    """
    scale = Decimal(100) if percent else Decimal(1)
    data = [{"week": week, "actual": scaled(actual, scale), "target": scaled(target, scale)}
            for week, actual, target in rows]
    frame = trend_lines_frame(str(labels["week"]), str(labels["actual"]), str(labels["target"]))
    return {**with_x_order(frame, [row["week"] for row in data]), "data": {"values": data}}


@lru_cache(maxsize=64)
def trend_lines_frame(week, actual, target):
    """The trend chart without its data or week order, one per labels (see points_bars_frame)."""
    x = alt.X("week:O", title=week, sort=[])
    base = alt.Chart()
    layers = [
        base.mark_line(color=BAR, point=True).encode(x=x, y=alt.Y("actual:Q", title=actual)),
        base.mark_line(color=GRID, strokeDash=[6, 4]).encode(x=x, y=alt.Y("target:Q", title=target)),
    ]
    return finish(alt.layer(*layers, data=alt.Data(values=[])).properties(width=WIDTH, height=180))


def with_x_order(frame, order):
    """`frame` (one chart or layers) with `order` as its x channel's sort, a copy."""
    def ordered(chart):
        encoding = chart["encoding"]
        return {**chart, "encoding": {**encoding, "x": {**encoding["x"], "sort": list(order)}}}
    if "layer" in frame:
        return {**frame, "layer": [ordered(layer) for layer in frame["layer"]]}
    return ordered(frame)


def group_lines(points, labels):
    """One line per group over ordered x values (months), e.g. GMV per head by department.

    points: [(x, group, value or None)]; labels: {"x", "y", "group"}."""
    data = [{"x": x, "group": str(group), "value": scaled(value, Decimal(1))} for x, group, value in points]
    order = list(dict.fromkeys(x for x, _group, _value in points))
    frame = group_lines_frame(str(labels["x"]), str(labels["y"]), str(labels["group"] or ""))
    return {**with_x_order(frame, order), "data": {"values": data}}


@lru_cache(maxsize=64)
def group_lines_frame(x_label, y_label, group_label):
    """The group lines without their data or x order, one per labels (see points_bars_frame)."""
    chart = alt.Chart(alt.Data(values=[])).mark_line(point=True).encode(
        x=alt.X("x:O", title=x_label, sort=[]), y=alt.Y("value:Q", title=y_label),
        color=alt.Color("group:N", title=group_label or None))
    return finish(chart.properties(width=WIDTH, height=200))


def scaled(value, scale):
    return None if value is None else float(Decimal(value) * scale)
