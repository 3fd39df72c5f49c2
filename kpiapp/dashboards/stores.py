"""The store dashboard (店铺评分, docs/dashboards.md "Store"): a store's marketplace metrics
over time against its owners' targets, and the list of stores with their headline figures.

Set-based: the facts of a page come from ONE query of their day sums (fact_day: `fact_groups`'
rows, compute_metric's own WHERE and GROUP BY, pre-summed; at 10M facts summing metric_fact
took seconds) over the cycle; periods and buckets are cut from those daily rows in Python and
evaluated with compute_metric's functions, so every figure equals compute_metric's for its
dates. The caller passes the viewer, the language and translated labels; no Flask here.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from kpiapp import charts, policy
from kpiapp.dashboards import fact_sums
from kpiapp.dashboards.fact_sums import FactSums
from kpiapp.dashboards.panels import Column, Panel
from kpiapp.extensions import db
from kpiapp.metrics import fact_day
from kpiapp.metrics.batch import load_formulas
from kpiapp.metrics.formula import Name
from kpiapp.metrics.services import MetricValue, convert_and_weigh, evaluate, load_rates, pick_families
from kpiapp.models import FactDay, FxRate, Scorecard, ScorecardItem, Store, StoreOwner, User
from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.presentation import platform_label
from kpiapp.tracking.services import item_shares

METRICS = ("gmv", "units", "sessions", "cvr", "acos", "tacos", "refund_rate", "fba_in_stock_rate")
HEADLINE = ("gmv", "units", "sessions", "cvr", "acos")
CHARTS = {"sales": ("gmv",), "traffic": ("units", "sessions"),
          "rates": ("cvr", "acos", "tacos", "refund_rate", "fba_in_stock_rate")}
# the translated words the caller passes as `labels` ("axis_money" a %-format with `currency`)
LABEL_KEYS = ("summary", "sales", "traffic", "rates", "owners", "stores", "metric", "period_value",
              "cycle_value", "missing", "bucket", "owner", "share", "target", "owner_actual", "implied",
              "store_actual", "store", "name", "platform", "currency", "latest", "axis_money", "axis_count",
              "axis_fraction", "owners_note")
PAGE_SIZE = 50
DAY_GRAIN_MAX, WEEK_GRAIN_MAX = 31, 184
ONE = Decimal(1)


# ---- time buckets -------------------------------------------------------------------------

def grain(first, last):
    """"day" up to 31 days, "week" up to 184, else "month"."""
    length = (last - first).days + 1
    return "day" if length <= DAY_GRAIN_MAX else "week" if length <= WEEK_GRAIN_MAX else "month"


def buckets(first, last):
    """[(start, end, label)] covering first..last at the period's grain, clipped to it."""
    kind, out, start = grain(first, last), [], first
    while start <= last:
        end = min(last, bucket_end(start, kind))
        out.append((start, end, bucket_label(start, end, kind)))
        start = end + timedelta(days=1)
    return out


def bucket_end(start, kind):
    if kind == "day":
        return start
    if kind == "week":
        return start + timedelta(days=6 - start.weekday())
    return date(start.year + start.month // 12, start.month % 12 + 1, 1) - timedelta(days=1)


def bucket_label(start, end, kind):
    if kind == "day":
        return start.isoformat()
    if kind == "month":
        return f"{start:%Y-%m}"
    return f"{start.isoformat()} – {end.isoformat()}"


# ---- figures from the fact rows -------------------------------------------------------------

class StoreFacts:
    """The summed facts of some stores over `first..last` (fact_groups' rows, read from fact_day),
    in one query, and the FX rates they need."""

    def __init__(self, store_ids, first, last, base):
        self.formulas = load_formulas(set(METRICS))
        measures = sorted({m for _d, _f, wanted in self.formulas.values() for m in wanted})
        self.rows = defaultdict(list)
        if store_ids and measures:
            query = fact_day.groups_query(sorted(store_ids), measures, first, last)
            for g in db.session.connection().execute(query):
                self.rows[g.store_id].append(g)
        self.rates = load_rates([g for rows in self.rows.values() for g in rows], base)

    def figures(self, store_id, first, last, keys=METRICS):
        """{metric key: MetricValue} of one store over first..last (a sub-range of the query's),
        as compute_metric(key, [(store_id, 1)], first, last) gives it."""
        rows = [g for g in self.rows.get(store_id, ()) if g.business_date >= first and g.period_end <= last]
        return {key: self.figure(key, store_id, rows, (last - first).days + 1)
                for key in keys if key in self.formulas}

    def figure(self, key, store_id, rows, days):
        definition, formula, measures = self.formulas[key]
        result = MetricValue(None, formula=str(formula), version=definition.version)
        picked = pick_families([g for g in rows if g.measure in measures])
        totals = convert_and_weigh(picked, {store_id: ONE}, result, self.rates)
        result.data_as_of = max((g.period_end for g in picked), default=None)
        return evaluate(formula, measures, totals, result, days)

    def name(self, key, lang):
        return name_of(self.formulas[key][0], lang)

    def unit(self, key):
        return self.formulas[key][0].unit

    def is_additive(self, key):
        """A single base measure: a share of the store is that share of the figure."""
        return isinstance(self.formulas[key][1].tree, Name)


def value_of(figure):
    return None if figure is None else figure.value


def missing_rates(facts, store_id, first, last, base):
    """[(currency, date)] of the money facts of first..last that have no FX rate."""
    money = {m for _d, _f, wanted in facts.formulas.values() for m in wanted
             if BASE_MEASURES[m].unit == "money"}
    return sorted({(g.currency, g.business_date) for g in facts.rows.get(store_id, ())
                   if g.measure in money and g.currency and g.currency != base and first <= g.business_date
                   and g.period_end <= last and (g.business_date, g.currency) not in facts.rates})


# ---- one store -------------------------------------------------------------------------------

@dataclass
class StorePage:
    panels: list
    missing_rates: list
    data_as_of: date | None


def store_page(store, cycle, period, viewer, lang, labels, base):
    """The panels of one store: the figures of `period` (first, last) within `cycle`, by
    bucket, and its owners' targets for the cycle. `labels`: translated words (see routes)."""
    first, last = period
    facts = StoreFacts([store.id], cycle.period_start, cycle.period_end, base)
    whole = facts.figures(store.id, first, last)
    for_cycle = facts.figures(store.id, cycle.period_start, cycle.period_end)
    series = [(label, facts.figures(store.id, start, end)) for start, end, label in buckets(first, last)]
    panels = [summary_panel(facts, whole, for_cycle, lang, labels, base)]
    panels += [series_panel(key, keys, facts, series, lang, labels, base) for key, keys in CHARTS.items()]
    panels.append(owners_panel(store, cycle, viewer, facts, for_cycle, lang, labels, base))
    as_of = max((f.data_as_of for f in whole.values() if f.data_as_of), default=None)
    return StorePage(panels, missing_rates(facts, store.id, first, last, base), as_of)


def summary_panel(facts, whole, for_cycle, lang, labels, base):
    """Each metric over the period and the cycle; as compute_metric, a measure without facts
    leaves the metric without a value (never 0), and the table names the measure."""
    columns = [Column("metric", labels["metric"]), by_row("period", labels["period_value"], base),
               by_row("cycle", labels["cycle_value"], base), Column("missing", labels["missing"])]
    rows = [{**metric_cells(facts, key, lang), "period": value_of(whole.get(key)),
             "cycle": value_of(for_cycle.get(key)), "missing": measure_names(whole.get(key), lang)}
            for key in METRICS if key in facts.formulas]
    return Panel("summary", labels["summary"], columns, rows)


def measure_names(figure, lang):
    """The measures a figure had no facts for, by name ("广告花费"), or None."""
    names = [BASE_MEASURES[m].name_zh if lang == "zh_CN" else BASE_MEASURES[m].name_en
             for m in (figure.missing_measures if figure else ())]
    return ("、" if lang == "zh_CN" else ", ").join(names) or None


def by_row(key, label, base):
    """A column of values whose unit is each row's metric's (rows from metric_cells)."""
    return Column(key, label, currency=base, unit_key="unit")


def metric_cells(facts, key, lang):
    return {"key": key, "metric": facts.name(key, lang), "unit": facts.unit(key)}


def metric_column(facts, key, lang, base):
    return Column(key, facts.name(key, lang), facts.unit(key), base)


def series_panel(panel_key, keys, facts, series, lang, labels, base):
    """One chart of `keys` (metrics of one unit) by bucket, and its table; no rows when no
    bucket has a figure (the page says "no data")."""
    keys = [key for key in keys if key in facts.formulas]
    columns = [Column("bucket", labels["bucket"]), *(metric_column(facts, key, lang, base) for key in keys)]
    rows = [{"bucket": label, **{key: value_of(figures.get(key)) for key in keys}}
            for label, figures in series]
    if not any(row[key] is not None for row in rows for key in keys):
        return Panel(panel_key, labels[panel_key], columns, [])
    unit = facts.unit(keys[0])
    axis = {"bucket": labels["bucket"], "value": labels[f"axis_{unit}"] % {"currency": base}}
    points = [(row["bucket"], facts.name(key, lang), row[key]) for row in rows for key in keys]
    spec = charts.metric_lines(points, axis, unit == "fraction")
    return Panel(panel_key, labels[panel_key], columns, rows, spec)


# ---- owners and their targets -----------------------------------------------------------------

def owners_panel(store, cycle, viewer, facts, for_cycle, lang, labels, base):
    """Each owner with their share, and per item of theirs on this store (when the viewer may
    see their scorecard) the target, their actual, the implied store target, the store's actual."""
    owners = db.session.execute(
        select(StoreOwner.person_id, StoreOwner.share_pct, User.name)
        .join(User, User.id == StoreOwner.person_id).where(StoreOwner.store_id == store.id)
        .order_by(StoreOwner.share_pct.desc(), User.name)).all()
    items = owner_items(store, cycle, viewer)
    rows = []
    for person_id, share_pct, name in owners:
        share = share_pct / 100
        mine = [owner_row(name, share, item, facts, for_cycle, store, lang)
                for item in items.get(person_id, ())]
        rows += mine or [{"owner": name, "share": share, "metric": None, "unit": None}]
    columns = [Column("owner", labels["owner"]), Column("share", labels["share"], "fraction"),
               Column("metric", labels["metric"]), by_row("target", labels["target"], base),
               by_row("actual", labels["owner_actual"], base), by_row("implied", labels["implied"], base),
               by_row("store_actual", labels["store_actual"], base)]
    return Panel("owners", labels["owners"], columns, rows, note=labels["owners_note"])


def owner_items(store, cycle, viewer):
    """{person id: [ScorecardItem]} of the store's owners' latest scorecards in `cycle` that the
    viewer may see, on a store metric, whose scope includes the store (two queries at most)."""
    card = Scorecard.__table__.alias("latest")
    latest = (select(func.max(card.c.version))
              .where(card.c.cycle_id == Scorecard.cycle_id, card.c.person_id == Scorecard.person_id)
              .scalar_subquery())
    owners = select(StoreOwner.person_id).where(StoreOwner.store_id == store.id)
    found = db.session.execute(
        select(Scorecard.person_id, ScorecardItem).join(Scorecard, Scorecard.id == ScorecardItem.scorecard_id)
        .where(Scorecard.cycle_id == cycle.id, Scorecard.person_id.in_(owners), Scorecard.version == latest,
               policy.visible_scorecards_filter(viewer), ScorecardItem.metric_key.in_(METRICS))
        .order_by(ScorecardItem.seq, ScorecardItem.id)).all()
    items = defaultdict(list)
    for person_id, item in found:
        if store.id in dict(item_shares(item.scope)):
            items[person_id].append(item)
    return items


def owner_row(name, share, item, facts, for_cycle, store, lang):
    key = item.metric_key
    return {"owner": name, "share": share, **metric_cells(facts, key, lang), "target": item.target,
            "actual": item.actual, "implied": implied_target(item, key, store.id, facts),
            "store_actual": value_of(for_cycle.get(key))}


def implied_target(item, key, store_id, facts):
    """The store-level target an item implies: target / share for an additive metric, the
    target itself for a ratio; None (no honest answer) when the scope has other stores."""
    shares = item_shares(item.scope)
    if item.target is None or [s for s, _share in shares] != [store_id] or not shares[0][1]:
        return None
    return item.target / shares[0][1] if facts.is_additive(key) else item.target


# ---- the list of stores -------------------------------------------------------------------------

def store_list(viewer, filters, period, after, lang, labels, base):
    """(panel, stores shown, next_after): one page of the stores the viewer may see, by code
    after `after`, with each store's latest data date and the period's headline figures."""
    query = select(Store).where(policy.visible_stores_filter(viewer))
    if filters.platform:
        query = query.where(Store.platform == filters.platform)
    if filters.store:
        query = query.where(Store.id == filters.store)
    if after:
        query = query.where(Store.code > after)
    stores = db.session.execute(query.order_by(Store.code).limit(PAGE_SIZE + 1)).scalars().all()
    more, stores = len(stores) > PAGE_SIZE, stores[:PAGE_SIZE]
    formulas = load_formulas(set(HEADLINE))
    figures = headline_figures([s.id for s in stores], period, formulas, base)
    latest = latest_dates([s.id for s in stores])
    rows = [list_row(store, figures.get(store.id, {}), latest.get(store.id), lang) for store in stores]
    columns = [Column("code", labels["store"]), Column("name", labels["name"]),
               Column("platform", labels["platform"]), Column("currency", labels["currency"]),
               Column("latest", labels["latest"])]
    columns += [Column(key, name_of(formulas[key][0], lang), formulas[key][0].unit, base)
                for key in HEADLINE if key in formulas]
    panel = Panel("stores", labels["stores"], columns, rows)
    return panel, stores, (stores[-1].code if more else None)


def headline_figures(store_ids, period, formulas, base):
    """{store id: {headline metric: value}} over `period` (first, last), each formula evaluated
    once on its store's sums per measure (`fact_sums.figure`), as compute_metric(key,
    [(store, 1)], first, last) evaluates it; Python sees stores x measures rows, not the
    period's day groups (50 stores x 30 days x 12 measures: 18,000 rows, 225 ms of CPU).

    The sums are one GROUP BY of the fact_day groups by (store, measure, family), money in
    another currency converted at its business date's rate (`family_sums`). When every store
    and measure has one family in the period, pick_families keeps every group, so these are
    the figures; else `fact_sums.FactSums` picks the families day by day (a window over the
    period's groups: 4-10x the database time of the GROUP BY at 10M facts)."""
    first, last = period
    measures = sorted({m for _d, _f, wanted in formulas.values() for m in wanted})
    if not store_ids or not measures:
        return {}
    rows = family_sums(store_ids, measures, first, last, base)
    sums = defaultdict(dict)
    for store_id, measure, _family, total, groups, missing in rows:
        if measure in sums[store_id]:  # a second family: picked day by day
            found = FactSums(first, last, select(Store.id).where(Store.id.in_(store_ids)), measures, base)
            sums = {store_id: by_measure for (store_id,), by_measure in found.sums(("store",)).items()}
            break
        sums[store_id][measure] = (None if total is None else Decimal(str(total)), groups, missing)
    days = (last - first).days + 1
    keys = [key for key in HEADLINE if key in formulas]
    return {store_id: {key: fact_sums.figure(formulas, key, by_measure, days) for key in keys}
            for store_id, by_measure in sums.items()}


def family_sums(store_ids, measures, first, last, base):
    """[(store_id, measure, family, total, groups, groups missing a rate)] of the fact_day
    groups PeriodFacts reads (`fact_sums.within`) by store, measure and family;
    money converted by `fact_sums.in_base`, as `converted` converts it (a group
    without its rate adds nothing and is counted)."""
    d = FactDay
    amount, missing, rate_of = fact_sums.in_base(d, measures, base)
    return db.session.execute(
        select(d.store_id, d.measure, d.family, func.sum(amount), func.count(), func.sum(missing))
        .outerjoin(FxRate, rate_of).where(*fact_sums.within(d, store_ids, measures, first, last))
        .group_by(d.store_id, d.measure, d.family)).all()


def name_of(definition, lang):
    return definition.name_zh if lang == "zh_CN" else definition.name_en


def list_row(store, figures, latest, lang):
    return {"code": store.code, "name": store.name, "platform": platform_label(store.platform, lang),
            "currency": store.currency, "latest": latest.isoformat() if latest else None,
            **{key: figures.get(key) for key in HEADLINE}}


def latest_dates(store_ids):
    """{store id: the last day any fact of the store covers}, in one query of the day sums
    (fact_day has a row for every key of metric_fact, counted or not)."""
    if not store_ids:
        return {}
    d = FactDay
    return dict(db.session.execute(select(d.store_id, func.max(d.period_end))
                                   .where(d.store_id.in_(store_ids)).group_by(d.store_id)).all())
