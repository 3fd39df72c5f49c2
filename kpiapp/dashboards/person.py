"""The person dashboard (docs/pace.md, docs/dashboards.md): one person's scorecard in a cycle —
the pace of each metric item (actual to date against expected to date, by day), the projected
score, and what moved since last week.

Queries (constant whatever the org size): the scorecard with its items (3), the items' paces
(`item_paces`, 3), the pace lines (`pace_series`: definitions, profiles, one load of the
period's facts), what moved (`moved_since`: one `compute_scopes`).
"""
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kpiapp import charts, presentation
from kpiapp.appraisal.progress import projected
from kpiapp.appraisal.queries import latest_only
from kpiapp.dashboards.panels import Column, Panel
from kpiapp.extensions import db
from kpiapp.metrics import batch
from kpiapp.models import Scorecard
from kpiapp.tracking import pace as pacing
from kpiapp.tracking.paces import item_paces, moved_since, pace_series


@dataclass(frozen=True)
class CardShown:
    """What the page shows of the scorecard: plain values (the memo keeps the dashboard beyond
    the request, where an ORM row would be detached)."""
    id: int
    total: object
    grade: str | None
    cycle_name: str


@dataclass
class PersonDashboard:
    card: CardShown | None  # the latest scorecard of the person in the cycle, or None
    projection: object  # progress.Projection or None
    at_risk: int
    panels: list


def person_card(person_id, cycle_id):
    query = latest_only(select(Scorecard).where(Scorecard.cycle_id == cycle_id,
                                                Scorecard.person_id == person_id))
    return db.session.execute(query.options(selectinload(Scorecard.items), selectinload(Scorecard.cycle))
                              ).scalars().first()


def person_dashboard(person, cycle, today, lang):
    card = person_card(person.id, cycle.id) if cycle is not None else None
    if card is None:
        return PersonDashboard(None, None, 0, [])
    items = [i for i in card.items if i.metric_key]
    paces = item_paces(items, today)
    units = {key: (d.unit, d.direction) for key, (d, _f, _m) in batch.load_formulas(
        {i.metric_key for i in items}).items()}
    moved = moved_since(items, last_data_day(items, today))
    series = pace_series(items, today)
    shown = [i for i in items if i.id in paces]
    panels = [pace_panel(shown, paces, moved, units, lang)]
    panels += [line_panel(i, series.get(i.id, []), units[i.metric_key][0], lang) for i in shown]
    return PersonDashboard(CardShown(card.id, card.total, card.grade, card.cycle.name), projected(card),
                           sum(paces[i.id].at_risk for i in shown), panels)


def last_data_day(items, today):
    """The newest day the items' data covers (never after today): "since last week" counts
    from there, so a store whose data stopped three days ago does not read as "no change"."""
    days = [i.data_as_of.date() for i in items if i.data_as_of is not None]
    return min(max(days), today) if days else today


def status_text(p):
    if p.status == pacing.NOT_STARTED:
        return _("Not started")
    if p.actual_to_date is None:
        return _("No data")
    if p.at_risk:
        return _("At risk")
    return _("Result") if p.status == pacing.OVER else _("On pace")


def pace_panel(items, paces, moved, units, lang):
    """One row per metric item: to date, expected, forecast, limits, status, a week ago; the
    numbers kept raw (each row in its item's unit), so the download holds numbers."""
    currency = current_app.config["BASE_CURRENCY"]
    rows = [pace_row(item, paces[item.id], units[item.metric_key][0], moved[item.id]) for item in items]

    def number(key, label, **extra):
        return Column(key, label, currency=currency, unit_key="unit", **extra)

    columns = [Column("item", _("KPI item")), number("actual", _("Actual to date")),
               number("expected", _("Expected to date")), number("forecast", _("Forecast at period end")),
               number("target", _("Target")), number("threshold", _("Threshold")),
               Column("status", _("Pace")),
               number("week_ago", _("A week ago")), number("change", _("Moved since last week"), signed=True)]
    # each item's name opens where its number comes from (formula, scope, FX, imports, fact rows)
    links = {n: url_for("provenance.item", item_id=item.id) for n, item in enumerate(items)}
    return Panel("pace", _("Pace of my items"), columns, rows, links=links,
                 note=_("Expected to date follows the days elapsed, or the store's seasonality when it "
                        "has a year of history; ratios are expected at their target all along."))


def pace_row(item, p, unit, moved):
    before, now = moved
    change = None if before is None or now is None else now - before
    return {"item": item.name, "unit": unit, "actual": p.actual_to_date, "expected": p.expected_to_date,
            "forecast": p.forecast, "target": p.target, "threshold": p.threshold,
            "status": status_text(p), "week_ago": before, "change": change}


def line_panel(item, rows, unit, lang):
    labels = {"actual": _("Actual to date"), "expected": _("Expected to date"), "day": _("Day"),
              "value": item.name}
    currency = current_app.config["BASE_CURRENCY"]
    columns = [Column("day", _("Day")), Column("actual", _("Actual to date"), unit, currency),
               Column("expected", _("Expected to date"), unit, currency)]
    data = [{"day": day.isoformat(), "actual": actual, "expected": expected}
            for day, actual, expected in rows]
    spec = charts.pace_lines(rows, labels) if rows else None
    return Panel(f"item-{item.id}", item.name, columns, data, spec=spec)
