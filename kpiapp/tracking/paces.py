"""The pace of many metric items at once, in a constant number of queries (docs/pace.md, "Query").

Services ring: reads the tracked items (`item.actual` is kept current by tracking), the
current metric definitions and a year of the stores' daily ordered sales for the seasonality
profile, and hands them to the pure `kpiapp.tracking.pace`.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import defer, joinedload

from kpiapp.extensions import db
from kpiapp.metrics import batch
from kpiapp.metrics.services import family_rank
from kpiapp.models import Cycle, FactDay, Scorecard, ScorecardItem
from kpiapp.models.appraisal import ItemKind
from kpiapp.tracking import pace as pacing
from kpiapp.tracking.services import SCALE, item_scope, item_shares, utc_today

PROFILE_MEASURE = "ordered_sales"  # a store's demand curve: the shape its seasonality follows


def item_paces(items_or_ids, today=None):
    """{item id: Pace} for the metric items among `items_or_ids` (ORM items, ids, or a SELECT
    of ids). Manual items and metrics without a current definition get no entry. Queries: the
    items (1; 1 per 500 ids in a list), the definitions (1), the stores' year of daily sales
    (1 per 500 stores)."""
    return {item.id: p for item, p in paced_items(items_or_ids, today)}


def paced_items(items_or_ids, today=None):
    """[(item, Pace)] as item_paces, with the loaded items (their scorecard and cycle too)."""
    return pace_loaded(load_items(items_or_ids), today or utc_today())


@dataclass
class Seasons:
    """What pacing the items of ONE cycle reads besides the items, kept between the calls of a
    request (the team dashboard paces its seasonal items, then its at-risk list): the stores that
    may have a profile (`risk.profiled_stores`; None: any), the profiles read so far by (store,
    period start) and the day weights by scope and period (`item_weights`). At 5,000 people with
    250 stores' year of history, the list read those stores' year (91,000 day sums) a second time."""
    stores: frozenset | None = None
    profiles: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)


def pace_loaded(items, today, formulas=None, seasons=None):
    """[(item, Pace)] of metric items already loaded: ORM items, or rows with the columns a pace
    reads (id, scope, actual, target, threshold, rule, data_as_of, metric_key) and a `scorecard`
    with its `cycle` (`risk.paced_rows`). Queries: the definitions unless `formulas` (what
    `batch.load_formulas` returned for these items' keys) are given; the stores' year of sales,
    except for the profiles `seasons` knows or rules out."""
    if formulas is None:
        formulas = batch.load_formulas({item.metric_key for item in items})
    seasons = seasons or Seasons()
    items = [item for item in items if item.metric_key in formulas]
    profiles = store_profiles(items, seasons.stores, seasons.profiles)
    return [(item, item_pace(item, formulas[item.metric_key][0], profiles, today, seasons.weights))
            for item in items]


def load_items(items_or_ids):
    """The metric items with their scorecard and cycle; `items_or_ids` may also be a SELECT of
    item ids (one query however many items it names)."""
    if isinstance(items_or_ids, Select):
        return _metric_items(ScorecardItem.id.in_(items_or_ids))
    ids = sorted({getattr(x, "id", x) for x in items_or_ids})
    return [item for part in batch.chunks(ids) for item in _metric_items(ScorecardItem.id.in_(part))]


# what a pace never reads: not fetched (at 2,000 people, 16,000 items: parsing their JSON and
# the cycle's, joined to every row, was half the CPU of the team and company dashboards); the
# scorecard stays whole but its snapshot (callers read the card: at_risk_items, the dashboards)
UNREAD = (ScorecardItem.provenance, ScorecardItem.explanation, ScorecardItem.description,
          ScorecardItem.self_comment, ScorecardItem.manager_comment, ScorecardItem.override_reason)


def _metric_items(where):
    return db.session.execute(
        select(ScorecardItem).where(where, ScorecardItem.kind == ItemKind.metric,
                                    ScorecardItem.metric_key.is_not(None))
        .options(*(defer(column) for column in UNREAD),
                 joinedload(ScorecardItem.scorecard).defer(Scorecard.snapshot),
                 joinedload(ScorecardItem.scorecard).joinedload(Scorecard.cycle)
                 .load_only(Cycle.period_start, Cycle.period_end))
        .order_by(ScorecardItem.id)).scalars().all()


def item_pace(item, definition, profiles, today, weights=None):
    cycle = item.scorecard.cycle
    return pacing.pace(
        _dec(item.actual), _dec(item.target), _dec(item.threshold), direction_of(item, definition),
        cycle.period_start, cycle.period_end, as_of(item, today),
        additive=pacing.is_additive(definition.unit, definition.formula),
        weights=item_weights(item, cycle, profiles, weights))


def direction_of(item, definition):
    return (item.rule or {}).get("direction") or definition.direction


def as_of(item, today):
    """The last day the actual covers: its data-as-of day, never after today."""
    seen = item.data_as_of
    if seen is None or item.actual is None:
        return today
    seen = seen.date() if isinstance(seen, datetime) else seen
    return min(seen, today)


def item_weights(item, cycle, profiles, memo=None):
    """The item's day weights (`pace.day_weights` of its stores' blended profile), None without
    a profile. `memo` ({}) keeps them by scope and period for the next items: a card's items
    mostly name one scope (at 5,000 people, 3,200 seasonal items named ~400), and blending and
    spreading a profile over the period's days was half the CPU of pacing them."""
    shares = item_shares(item.scope)
    key = (tuple((store, str(share)) for store, share in shares), cycle.period_start, cycle.period_end)
    if memo is not None and key in memo:
        return memo[key]
    profile = pacing.blend_profiles([(profiles.get((store, cycle.period_start)), share)
                                     for store, share in shares])
    weights = None if profile is None else pacing.day_weights(profile, cycle.period_start, cycle.period_end)
    if memo is not None:
        memo[key] = weights
    return weights


def store_profiles(items, stores=None, known=None):
    """{(store id, period start): season profile or None} from the year before each period.

    `stores`: the stores that may have a profile for every period of `items`
    (`risk.profiled_stores` of their one cycle: sales on the first and the last day of the
    year before it, which a profile needs); the others get None without reading their year.
    `known`: the profiles read before for the same one period (`Seasons.profiles`), not read
    again; the new ones are added to it. (A store's profile depends on its own rows only, as
    long as the period start, so the window read, is the same.)"""
    wanted = {(store, item.scorecard.cycle.period_start) for item in items
              for store, _ in item_shares(item.scope)}
    profiles = {} if known is None else known
    read = {(store, start) for store, start in wanted - profiles.keys()
            if stores is None or store in stores}
    profiles.update(dict.fromkeys(wanted - profiles.keys() - read))
    if read:
        starts = {start for _, start in read}
        low, high = min(starts) - timedelta(days=pacing.YEAR_DAYS), max(starts) - timedelta(days=1)
        daily = daily_sales(sorted({store for store, _ in read}), low, high)
        profiles.update({(store, start): pacing.season_profile(year_before(daily.get(store, {}), start))
                         for store, start in read})
    return profiles


def year_before(days, start):
    low = start - timedelta(days=pacing.YEAR_DAYS)
    return {day: value for day, value in days.items() if low <= day < start}


def daily_sales(stores, low, high):
    """{store: {day: ordered sales}} from one family per store (the highest-priority one that
    has data), SKU rows under a total dropped as compute_metric drops them: fact_groups' rows
    summed by day, read from their day sums (fact_day), not from metric_fact."""
    d = FactDay
    by_family = defaultdict(lambda: defaultdict(dict))
    for part in batch.chunks(stores):
        rows = db.session.execute(
            select(d.store_id, d.family, d.business_date, func.sum(d.total))
            .where(d.store_id.in_(part), d.measure == PROFILE_MEASURE, d.business_date >= low,
                   d.business_date <= high, d.period_end <= high, d.facts > 0)
            .group_by(d.store_id, d.family, d.business_date))
        for store, family, day, total in rows:
            by_family[store][family][day] = Decimal(total)
    return {store: families[min(families, key=family_rank)] for store, families in by_family.items()}


def pace_series(items, today=None):
    """{item id: [(day, actual to date, expected to date)]} for each day of each metric item's
    period to date (the person dashboard's pace lines).

    Per period, the facts of every item's scope are loaded once (`batch.PeriodFacts`, 3
    queries); each day's actual is evaluated from the fact groups that end by that day, with
    the functions compute_metric uses, so the last point equals the tracked `item.actual`."""
    today = today or utc_today()
    items = [item for item in items if item.kind == ItemKind.metric and item.metric_key]
    formulas = batch.load_formulas({item.metric_key for item in items})
    items = [item for item in items if item.metric_key in formulas]
    profiles = store_profiles(items)
    by_period = defaultdict(list)
    for item in items:
        cycle = item.scorecard.cycle
        by_period[(cycle.period_start, min(today, cycle.period_end))].append(item)
    series = {}
    for (start, end), group in by_period.items():
        facts = period_facts(group, start, end, formulas)
        views = {}  # day -> DayView, shared by the period's items
        for item in group:
            series[item.id] = item_series(item, facts, views, formulas, profiles, end)
    return series


def period_facts(items, start, end, formulas):
    scopes = [batch.scope_of(item.metric_key, shares, start, end)
              for item in items if (shares := item_shares(item.scope))]
    return batch.PeriodFacts(start, end, scopes, formulas) if scopes and start <= end else None


def item_series(item, facts, views, formulas, profiles, end):
    cycle = item.scorecard.cycle
    definition = formulas[item.metric_key][0]
    shares = item_shares(item.scope)
    weights = item_weights(item, cycle, profiles)
    rows, day = [], cycle.period_start
    while day <= end:
        actual = actual_on(views, facts, item, shares, day, formulas) if facts and shares else None
        p = pacing.pace(actual, _dec(item.target), _dec(item.threshold), direction_of(item, definition),
                        cycle.period_start, cycle.period_end, day,
                        additive=pacing.is_additive(definition.unit, definition.formula), weights=weights)
        rows.append((day, p.actual_to_date, p.expected_to_date))
        day += timedelta(days=1)
    return rows


def actual_on(views, facts, item, shares, day, formulas):
    """compute_metric(metric, shares, period start, day).value from the loaded period facts."""
    view = views.get(day) or views.setdefault(day, DayView(facts, day))
    scope = batch.scope_of(item.metric_key, shares, facts.date_from, day)
    value = view.compute(scope, *formulas[item.metric_key]).value
    return None if value is None else value.quantize(SCALE, rounding=ROUND_HALF_UP)


def moved_since(items, today=None, days=7):
    """{item id: (actual to date `days` ago, actual to date now)} for metric items, the old
    values computed set-based (`batch.compute_scopes`: ~3 queries per period, whatever the
    number of items); now is the tracked `item.actual`. None where there was no data."""
    today = today or utc_today()
    then = today - timedelta(days=days)
    items = [item for item in items if item.kind == ItemKind.metric and item.metric_key]
    scopes = {item.id: item_scope(item, item.scorecard.cycle, then) for item in items}
    results = batch.compute_scopes([scope for scope in scopes.values() if scope])
    moved = {}
    for item in items:
        result = results.get(scopes[item.id]) if scopes[item.id] else None
        old = None if result is None or result.value is None else result.value.quantize(
            SCALE, rounding=ROUND_HALF_UP)
        moved[item.id] = (old, _dec(item.actual))
    return moved


class DayView(batch.PeriodFacts):
    """The loaded facts of a period cut at `day`: the groups that end by then (what the facts
    query for period start .. day returns), with the same rates."""

    def __init__(self, facts, day):  # no super().__init__: nothing is queried again
        self.date_from, self.date_to = facts.date_from, day
        self.rows = {store: [g for g in rows if g.period_end <= day] for store, rows in facts.rows.items()}
        self.imports, self.partial, self.rates, self.base = facts.imports, {}, facts.rates, facts.base
        self.picked, self.amounts, self.runs = {}, {}, {}


def _dec(value):
    return None if value is None else Decimal(value)

