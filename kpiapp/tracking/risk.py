"""At risk in SQL: `pace.pace(...).at_risk` for every metric item of a cycle in one query
(docs/pace.md, "At risk in SQL").

The team and company dashboards only count and order by at-risk items, so pacing every item
in Python (`paces.paced_items`: load each item, pace it) made their cost grow with the org.
Here the rule is one SQL expression over the item's own columns and its cycle's dates:

* as of: the day of `data_as_of` (UTC), never after today; today without one;
* elapsed days: period start .. as of, clipped to the period; none yet: not started, never at risk;
* forecast: an additive metric (`pace.is_additive` of its current definition) carries the
  actual to the period's end, actual x period days / elapsed days, rounded to 6 places as
  `pace._round`; a ratio's forecast is its actual;
* at risk: the forecast is below the limit (threshold, else target) when higher is better
  (the rule's direction, else the definition's), above it when lower is better; no actual or
  no limit: not at risk.

That is exact for items paced on a straight line. An item whose stores all have a year of
history may follow a season profile instead (`paces.item_weights`): such items ("seasonal":
every store of the scope has ordered sales on the first and the last day of the year before
the period, which a profile needs) are paced in Python by `paces.paced_items` and their
result enters the query as a list of ids. Without a year of history there are none.
"""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import (JSON, Date, Integer, Numeric, and_, case, cast, column, exists, false, func, literal, literal_column,
                        or_, select, text)

from kpiapp.extensions import db, dialect
from kpiapp.models import FactDay, MetricDefinition, ScorecardItem, Store
from kpiapp.models.appraisal import ItemKind
from kpiapp.tracking import pace as pacing
from kpiapp.tracking.paces import PROFILE_MEASURE, paced_items

HIGHER = "higher_better"


def without_jit():
    """PostgreSQL: no JIT compilation for the rest of this transaction. The dashboards'
    grouped queries over the cycle's items are planned with 100 rows per JSON scope (the
    default for a set-returning function), so their estimated cost passes jit_above_cost and
    compiling took 0.5-0.8 s of a 0.1 s query (EXPLAIN ANALYZE at 2,000 people)."""
    if dialect() == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def scope_stores(scope):
    """A table of the store ids named by a JSON scope column ([{"store_id", "share_pct"}]),
    one row per entry (column `store_id`); correlates with the scope's table."""
    if dialect() == "postgresql":
        array = case((func.json_typeof(scope) == "array", scope))
        entries = func.json_array_elements(array).table_valued(column("value", JSON)).alias("entry")
        return entries, cast(entries.c.value.op("->>")("store_id"), Integer)
    entries = func.json_each(scope).table_valued("value").alias("entry")
    return entries, cast(func.json_extract(entries.c.value, "$.store_id"), Integer)


def days_between(later, earlier):
    if dialect() == "postgresql":
        return cast(later, Date) - cast(earlier, Date)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def utc_day(timestamp):
    if dialect() == "postgresql":
        return cast(func.timezone("UTC", timestamp), Date)
    return func.date(timestamp)


def current_definitions():
    """{metric key: (direction, additive)} of the current definitions (one query)."""
    rows = db.session.execute(select(MetricDefinition.key, MetricDefinition.direction, MetricDefinition.unit,
                                     MetricDefinition.formula).where(MetricDefinition.is_current)).all()
    return {key: (direction, pacing.is_additive(unit, formula)) for key, direction, unit, formula in rows}


def data_days(data_as_of, start, today):
    """(started: no data time, or one on or after the UTC day `start`; before today: its UTC
    day is before `today`; days in: its UTC day minus `start`) for a timestamp column.

    PostgreSQL compares the timestamps with the two days' UTC midnights and counts whole days
    of the difference (an interval whose 24 hours are days): no time zone conversion per row,
    which for 40,000 items was ~1/4 of the at-risk statement (issue 10). SQLite, which keeps
    timestamps as text, compares the UTC days."""
    if dialect() == "postgresql":
        start_at, today_at = (datetime.combine(day, time(), timezone.utc) for day in (start, today))
        days_in = cast(func.date_part("day", data_as_of - literal(start_at, data_as_of.type)), Integer)
        return (or_(data_as_of.is_(None), data_as_of >= start_at), data_as_of < today_at, days_in)
    seen = utc_day(data_as_of)
    return (or_(data_as_of.is_(None), seen >= literal(start, Date)), seen < literal(today, Date),
            days_between(seen, literal(start, Date)))


def smaller(a, b):
    return func.least(a, b) if dialect() == "postgresql" else func.min(a, b)


def straight_line_risk(definitions, cycle, today):
    """The at-risk rule over ScorecardItem (of `cycle`'s scorecards), on a straight line.

    The cycle's dates and today are the same for every row, so what depends on them alone is
    Python arithmetic (period days, the days elapsed by today), and each row evaluates its own
    parts once: its data day, its direction (a column generated from the rule: reading it
    from the JSON parsed every item's rule), its forecast. At 5,000 people
    (40,000 items) the same rule written over the joined cycle's dates, with the direction a
    CASE over every metric key evaluated twice per row, took ~90 ms more than reading the items."""
    item = ScorecardItem
    period_days = (cycle.period_end - cycle.period_start).days + 1
    by_today = min(period_days, (today - cycle.period_start).days + 1)  # days elapsed as of today
    if by_today < 1:
        return false()  # not started: nothing is at risk
    # as of the data's day when before today (never before the period starts: not started)
    started, before_today, days_in = data_days(item.data_as_of, cycle.period_start, today)
    elapsed = case((before_today, smaller(days_in + 1, period_days)), else_=by_today)
    actual = item.actual if dialect() == "postgresql" else item.actual * literal_column("1.0")
    additive = [key for key, (_direction, summed) in definitions.items() if summed]
    forecast = func.round(case((item.metric_key.in_(additive), actual * period_days / cast(elapsed, Numeric)),
                               else_=item.actual), 6)
    limit = func.coalesce(item.threshold, item.target)
    lower = sorted(key for key, (direction, _s) in definitions.items() if (direction or HIGHER) != HIGHER)
    default = case((item.metric_key.in_(lower), literal("lower_better")), else_=literal(HIGHER))
    direction = item.__table__.c.direction  # the rule's, a column generated from it (models/appraisal.py)
    higher = func.coalesce(func.nullif(direction, ""), default) == HIGHER
    misses = case((higher, forecast < func.round(limit, 6)), else_=forecast > func.round(limit, 6))
    return and_(item.actual.is_not(None), limit.is_not(None), started, misses)


def profiled_stores(cycle):
    """The stores that may have a season profile for `cycle` (one query): ordered sales on the
    first and the last day of the year before it, which `pace.season_profile` needs at least.
    Two index probes a store (store, measure, day): at 10M facts, reading fact_day for the two
    days took 60-90 ms (no index leads with the day)."""
    first, last = cycle.period_start - timedelta(days=pacing.YEAR_DAYS), cycle.period_start - timedelta(days=1)

    def sold_on(day):
        return exists().where(FactDay.store_id == Store.id, FactDay.measure == PROFILE_MEASURE,
                              FactDay.business_date == day)

    return db.session.execute(select(Store.id).where(sold_on(first), sold_on(last))).scalars().all()


def seasonal(stores):
    """True for an item whose every store (at least one) is among `stores`."""
    entries, store = scope_stores(ScorecardItem.scope)
    named = exists(select(literal(1)).select_from(entries))
    elsewhere = exists(select(literal(1)).select_from(entries).where(store.not_in(stores)))
    return and_(named, ~elsewhere)


def metric_item(definitions):
    """The WHERE of a ScorecardItem the rule applies to: a metric with a current definition."""
    return and_(ScorecardItem.kind == ItemKind.metric, ScorecardItem.metric_key.in_(list(definitions)))


def metric_items(card_ids, definitions):
    """SELECT (item id, scorecard id) FROM the metric items of the cards `card_ids` (a SELECT of
    scorecard ids) with a current definition."""
    item = ScorecardItem
    return (select(item.id.label("item_id"), item.scorecard_id.label("scorecard_id"))
            .where(item.scorecard_id.in_(card_ids), metric_item(definitions)))


def at_risk_rule(card_ids, cycle, today):
    """(the at-risk flag, a boolean expression over ScorecardItem, and the current definitions)
    for the metric items of the cards `card_ids` (a SELECT of scorecard ids of `cycle`): the
    caller selects the items (`metric_item(definitions)`) as it needs. Queries: the definitions
    and the stores with a year of history (2); with such stores, their seasonal items (1) and
    `paced_items` for those (3)."""
    definitions = current_definitions()
    at_risk = straight_line_risk(definitions, cycle, today)
    stores = profiled_stores(cycle)
    if stores:
        items = db.session.execute(metric_items(card_ids, definitions).where(seasonal(stores))).scalars().all()
        risky = [item.id for item, p in paced_items(items, today) if p.at_risk]
        at_risk = case((seasonal(stores), ScorecardItem.id.in_(risky)), else_=at_risk)
    return at_risk, definitions


def item_risks(card_ids, cycle, today):
    """SELECT (item_id, scorecard_id, at_risk) of the metric items of the cards `card_ids` (a
    SELECT of scorecard ids of `cycle`), as `at_risk_rule`; the SELECT is then run by the caller."""
    at_risk, definitions = at_risk_rule(card_ids, cycle, today)
    return metric_items(card_ids, definitions).add_columns(at_risk.label("at_risk"))
