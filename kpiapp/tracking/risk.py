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
the period, which a profile needs) are paced in Python (`paces.pace_loaded` of plain rows)
and their result enters the query as a list of ids. Without a year of history there are none.

The stored flag (docs/pace.md, "The stored flag"): `store_flags` writes the straight-line
answer onto each item of a cycle's open cards (the recompute, the imports' recompute and the
daily at-risk run call it, through `alerts.notify_at_risk`), with the day it was computed
for, whether it lasts (the data's day was not after that day: "as of" is the data's day on
every later day) and its basis (the cycle's dates and the current definitions as one text,
`basis_text`). `at_risk_rule` reads the flag where `stored_holds` (same basis; computed for
today, or lasting and computed on or before today) and evaluates the rule live everywhere
else; a trigger empties the flag when an input of the item changes. So the stored answer is
only ever used where the live rule would give the same one; seasonal items stay live.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import (JSON, Date, Integer, Numeric, and_, case, cast, column, exists, false, func, literal, literal_column,
                        or_, select, true, union_all, update)
from sqlalchemy.dialects import postgresql, sqlite

from kpiapp import policy
from kpiapp.appraisal.workflow import ScorecardState
from kpiapp.extensions import db, dialect, set_local
from kpiapp.models import (FactDay, ItemRiskBasis, MetricDefinition, Scorecard, ScorecardItem,
                           ScorecardItemStore, Store)
from kpiapp.models.appraisal import ItemKind
from kpiapp.tracking import pace as pacing
from kpiapp.tracking.paces import PROFILE_MEASURE, Seasons, pace_loaded

HIGHER = "higher_better"


def without_jit():
    """PostgreSQL: no JIT compilation for the rest of this transaction. The dashboards'
    grouped queries over the cycle's items are planned with 100 rows per JSON scope (the
    default for a set-returning function), so their estimated cost passes jit_above_cost and
    compiling took 0.5-0.8 s of a 0.1 s query (EXPLAIN ANALYZE at 2,000 people)."""
    set_local(db.session.connection(), jit="off")


PROBES = {"max_parallel_workers_per_gather": "0", "random_page_cost": "1.1"}  # small_reads(probes=True)


def small_reads(probes=False):
    """PostgreSQL: plan the rest of this transaction for a page's few small reads of cached rows,
    in one statement: no JIT (`without_jit`), no parallel workers, and with `probes` an index
    probe priced near a sequential read (random_page_cost 1.1, the usual setting for data in
    memory or on SSD; the default, 4, is for spinning disks). At 10M facts (EXPLAIN ANALYZE,
    load 5-6): the all-stores page's 50 stores' items were read by a sequential scan of all
    40,000 items (27 ms) instead of 3,000 probes (12 ms), and two parallel workers did 13 ms of
    work while the leader waited 94 ms for them on a loaded 2-core machine; one client's
    page gained nothing from them. (Probes are not the team dashboard's: it reads its whole
    team, which a sequential scan of the people reads faster.)"""
    settings = {"jit": "off", "max_parallel_workers_per_gather": "0"}
    if probes:
        settings.update(PROBES)
    set_local(db.session.connection(), **settings)


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
    """True for an item whose every store (at least one) is among `stores`: it has a store among
    them and none elsewhere (`scorecard_item_store`, the stores its scope names, read by its
    store index for the first and its key for the second: no item's JSON scope is parsed)."""
    pair = ScorecardItemStore
    named = ScorecardItem.id.in_(select(pair.item_id).where(pair.store_id.in_(stores)))
    elsewhere = exists().where(pair.item_id == ScorecardItem.id, pair.store_id.not_in(stores))
    return and_(named, ~elsewhere)


def listed_ids(ids):
    """A SELECT of `ids` (a Python list) passed as one parameter (`policy.listed`), so that
    neither the statement's text nor its parameters grow with the list."""
    text = ",".join(str(int(i)) for i in ids)
    return policy.listed("{" + text + "}" if dialect() == "postgresql" else "[" + text + "]")


def metric_item(definitions):
    """The WHERE of a ScorecardItem the rule applies to: a metric with a current definition."""
    return and_(ScorecardItem.kind == ItemKind.metric, ScorecardItem.metric_key.in_(list(definitions)))


def metric_items(card_ids, definitions):
    """SELECT (item id, scorecard id) FROM the metric items of the cards `card_ids` (a SELECT of
    scorecard ids) with a current definition."""
    item = ScorecardItem
    return (select(item.id.label("item_id"), item.scorecard_id.label("scorecard_id"))
            .where(item.scorecard_id.in_(card_ids), metric_item(definitions)))


def basis_text(definitions, cycle):
    """Everything the straight-line rule reads besides the item's own columns and the day: the
    cycle's period and each current definition's key, direction and additivity, as one text
    (equal texts, equal rules)."""
    keys = ",".join(f"{key}:{direction or ''}:{int(additive)}"
                    for key, (direction, additive) in sorted(definitions.items()))
    return f"{cycle.period_start.isoformat()}..{cycle.period_end.isoformat()}|{keys}"


def bases(definitions, cycle):
    """(the id of `cycle`'s basis row for `definitions`, None when there is none yet; the ids
    of its other basis rows: flags computed with them hold no longer) in one query."""
    text_now = basis_text(definitions, cycle)
    rows = db.session.execute(select(ItemRiskBasis.id, ItemRiskBasis.basis)
                              .where(ItemRiskBasis.cycle_id == cycle.id)).all()
    return (next((row.id for row in rows if row.basis == text_now), None),
            [row.id for row in rows if row.basis != text_now])


def basis_id(definitions, cycle):
    """The id of `cycle`'s basis row for `definitions`, inserted when new (ON CONFLICT DO
    NOTHING: two runs at once agree)."""
    basis = basis_text(definitions, cycle)
    insert = (postgresql if dialect() == "postgresql" else sqlite).insert(ItemRiskBasis)
    db.session.execute(insert.values(cycle_id=cycle.id, basis=basis)
                       .on_conflict_do_nothing(index_elements=["cycle_id", "basis"]))
    return db.session.execute(select(ItemRiskBasis.id).where(ItemRiskBasis.cycle_id == cycle.id,
                                                             ItemRiskBasis.basis == basis)).scalar_one()


def stored_holds(basis, today):
    """Where an item's stored flag is the live rule's answer today: computed with `basis` (the
    current basis id; None: nothing holds) and for today, or lasting and computed on or
    before today. Never NULL."""
    if basis is None:
        return false()
    c = ScorecardItem.__table__.c
    day = literal(today, Date)
    holds = and_(c.risk_basis == basis, or_(c.risk_day == day, and_(c.risk_lasts, c.risk_day <= day)))
    return func.coalesce(holds, false())


def maybe_at_risk():
    """Items that may be at risk today whatever their basis: not flagged "not at risk, lasting"
    (the predicate of the partial index ix_scorecard_item_risk_maybe, word for word)."""
    c = ScorecardItem.__table__.c
    return or_(c.risk_flag.is_not(false()), c.risk_lasts.is_not(true()))


def lasting_safe():
    """Items flagged "not at risk, lasting" (the predicate of ix_scorecard_item_risk_lasting):
    the complement of `maybe_at_risk`."""
    c = ScorecardItem.__table__.c
    return and_(c.risk_flag.is_(false()), c.risk_lasts.is_(true()))


def store_flags(cycle, today):
    """Store the straight-line at-risk flag of every metric item of `cycle`'s open cards whose
    stored flag does not hold today (one UPDATE; returns the items written). Locked cards are
    left alone (their trigger refuses any write; their items are evaluated live). The flag
    lasts when there is a data day and it is not after `today`: every later day then paces
    the item as of its data day, and today did too (as of today = the data day: the same
    elapsed days, `straight_line_risk`)."""
    definitions = current_definitions()
    basis = basis_id(definitions, cycle)
    item, c = ScorecardItem, ScorecardItem.__table__.c
    _started, through_today, _days = data_days(item.data_as_of, cycle.period_start, today + timedelta(days=1))
    open_cards = select(Scorecard.id).where(Scorecard.cycle_id == cycle.id,
                                            Scorecard.state != ScorecardState.LOCKED)
    db.session.flush()
    written = db.session.execute(
        update(item.__table__)
        .where(c.scorecard_id.in_(open_cards), metric_item(definitions), ~stored_holds(basis, today))
        .values({c.risk_flag: func.coalesce(straight_line_risk(definitions, cycle, today), false()),
                 c.risk_day: today, c.risk_lasts: and_(c.data_as_of.is_not(None), through_today),
                 c.risk_basis: basis}))
    return written.rowcount


def at_risk_rule(card_ids, cycle, today):
    """(the at-risk flag, a boolean expression over ScorecardItem, and the current definitions)
    for the metric items of the cards `card_ids` (a SELECT of scorecard ids of `cycle`): the
    caller selects the items (`metric_item(definitions)`) as it needs. The stored flag where it
    holds today (`stored_holds`), else the rule. Queries: the definitions, the cycle's bases
    and the stores with a year of history (3); with such stores, their seasonal items (1) and
    `paces.pace_loaded` for those (2)."""
    at_risk, definitions, _stale, _in_season = risk_parts(card_ids, cycle, today)
    return at_risk, definitions


def risk_parts(card_ids, cycle, today, seasons=None):
    """`at_risk_rule`'s (flag, definitions), the WHERE of the items flagged "not at risk,
    lasting" whose flag does not hold today (computed with another basis of the cycle, or on a
    later day than today: a clock set back), and the WHERE of the seasonal items (paced in
    Python, their ids passed as one parameter; None without any). `seasons`: a
    `paces.Seasons` of the cycle with its `profiled_stores`, when the caller keeps one."""
    definitions = current_definitions()
    basis, others = bases(definitions, cycle)
    c = ScorecardItem.__table__.c
    at_risk = case((stored_holds(basis, today), c.risk_flag),
                   else_=straight_line_risk(definitions, cycle, today))
    stale = or_(c.risk_basis.in_(others), and_(c.risk_basis == basis, c.risk_day > literal(today, Date))) \
        if basis is not None else c.risk_basis.in_(others)
    seasons = seasons or Seasons(frozenset(profiled_stores(cycle)))
    stores = sorted(seasons.stores)
    items = seasonal_rows(card_ids, definitions, stores, cycle) if stores else []
    if not items:
        return at_risk, definitions, stale, None
    risky = [item.id for item, p in pace_loaded(items, today, seasons=seasons) if p.at_risk]
    in_season = ScorecardItem.id.in_(listed_ids([item.id for item in items]))
    at_risk = case((in_season, ScorecardItem.id.in_(listed_ids(risky))), else_=at_risk)
    return at_risk, definitions, stale, in_season


PACED = (ScorecardItem.id, ScorecardItem.name, ScorecardItem.scope, ScorecardItem.actual,
         ScorecardItem.target, ScorecardItem.threshold, ScorecardItem.rule, ScorecardItem.data_as_of,
         ScorecardItem.metric_key)


@dataclass
class PacedRow:
    """A metric item as `paces.pace_loaded` reads it: the columns of a pace, its name and its
    card's cycle (plain rows: loading 3,200 ORM items with their cards was a third of pacing them)."""
    id: int
    name: str
    scope: list | None
    actual: Decimal | None
    target: Decimal | None
    threshold: Decimal | None
    rule: dict | None
    data_as_of: datetime | None
    metric_key: str
    scorecard: object  # anything with the `cycle`


def paced_rows(where, cycle):
    """The metric items of `cycle`'s cards matching `where` as PacedRows, by id (one query)."""
    card = SimpleNamespace(cycle=cycle)
    rows = db.session.execute(select(*PACED).where(where, ScorecardItem.kind == ItemKind.metric,
                                                   ScorecardItem.metric_key.is_not(None))
                              .order_by(ScorecardItem.id))
    return [PacedRow(*row, card) for row in rows]


def seasonal_rows(card_ids, definitions, stores, cycle):
    """The seasonal metric items of the cards `card_ids` as PacedRows (one query)."""
    return paced_rows(and_(ScorecardItem.scorecard_id.in_(card_ids), metric_item(definitions),
                           seasonal(stores)), cycle)


def risky_items(cards, cycle, today, seasons=None):
    """SELECT (item_id, scorecard_id) of the at-risk metric items of `cards` (a FROM of `cycle`'s
    cards with an `id` column), found by index without visiting the items flagged "not at
    risk, lasting" whose flag holds (most of them): the items that may be at risk
    (`maybe_at_risk`, one partial index), the lasting ones whose flag does not hold (the
    other) and the lasting seasonal ones (by key), each with the flag or the rule
    (`at_risk_rule`). The items are joined to the cards (PostgreSQL estimated a team at 200
    cards and probed `scorecard_id IN (...)` per card). `seasons` as `risk_parts`."""
    at_risk, definitions, stale, in_season = risk_parts(select(cards.c.id), cycle, today, seasons)
    item = ScorecardItem

    def branch(where):
        return (select(item.id.label("item_id"), item.scorecard_id.label("scorecard_id"))
                .select_from(cards.join(item, item.scorecard_id == cards.c.id))
                .where(where, metric_item(definitions), at_risk))

    if in_season is None:
        return union_all(branch(maybe_at_risk()), branch(and_(lasting_safe(), stale)))
    return union_all(branch(maybe_at_risk()), branch(and_(lasting_safe(), stale, ~in_season)),
                     branch(and_(lasting_safe(), in_season)))


def item_risks(card_ids, cycle, today):
    """SELECT (item_id, scorecard_id, at_risk) of the metric items of the cards `card_ids` (a
    SELECT of scorecard ids of `cycle`), as `at_risk_rule`; the SELECT is then run by the caller."""
    at_risk, definitions = at_risk_rule(card_ids, cycle, today)
    return metric_items(card_ids, definitions).add_columns(at_risk.label("at_risk"))
