"""The company dashboard's panels (docs/dashboards.md, "The company dashboard").

Set-based: a constant number of queries whatever the number of people, stores or
departments, and the work is done by the database: attainment, items and at-risk items per
department and per store are grouped in SQL (`tracking.risk` flags the at-risk items; an
item's stores are read from `scorecard_item_store`, its JSON scope expanded and kept by
database triggers: docs/dashboards.md, "The items' stores kept"), and
every figure from facts (a store's GMV, a department's share-weighted GMV, a day's ACoS
inputs, a month's ad sales) is a SUM over the period's picked and converted fact groups
(`fact_sums.FactSums`), grouped by store, day, month, department or platform; Python
evaluates each formula once on the grouped sums (`fact_sums.figure`), with the functions
`compute_metric` uses, so FX, shares and ratios from summed measures follow one rule.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property, partial

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Float, and_, case, cast, distinct, exists, func, literal, select
from sqlalchemy.orm import aliased

from kpiapp import charts, presentation
from kpiapp.appraisal import queries, scoring
from kpiapp.appraisal.services import grade_bands
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.chart_labels import chart_labels
from kpiapp.dashboards.fact_sums import NONE, FactSums, add, figure
from kpiapp.dashboards.panels import Column, Panel
from kpiapp.extensions import db, dialect, settings_for_one_statement
from kpiapp.i18n import N_
from kpiapp.metrics.batch import load_formulas
from kpiapp.models import (Cycle, Department, ImportRecord, Role, Scorecard, ScorecardItem, ScorecardItemStore,
                           ScorecardTotal, Store, StoreOwner, User)
from kpiapp.models.appraisal import ItemKind
from kpiapp.models.metrics import ImportKind, ImportStatus
from kpiapp.tracking.risk import PROBES, at_risk_rule, metric_item, small_reads, without_jit
from kpiapp.tracking.services import utc_today

NAME = "company"
# (panel key suffix, label, metric key) of the KPI families drawn as weekly trend lines
FAMILIES = (("sales", N_("Sales (GMV)"), "gmv"), ("ads", N_("Advertising (ACoS)"), "acos"),
            ("service", N_("Service (answered within 24 h)"), "cs_response_rate_24h"),
            ("supply", N_("Supply chain (FBA in stock)"), "fba_in_stock_rate"))
# (column key, label, metric key) of the per-head figures; "units" stands in for orders
PER_HEAD = (("gmv", N_("GMV"), "gmv"), ("units", N_("Units ordered"), "units"),
            ("ad_sales", N_("Ad sales"), "ad_sales"))
PANELS = ("departments", "stores", "grades", *(f"trend_{key}" for key, _label, _metric in FAMILIES),
          "movers", "freshness", "per_head_departments", "per_head_platforms")
MOVERS = 5
RANKED = 10  # the store panel: this many highest and lowest stores by attainment
STORE_PAGE = 50  # the all-stores page: stores a page
STALEST = 10  # the freshness panel: the stores whose data is oldest
ADDITIVE = ("money", "count")
CENT = Decimal("0.01")


def company_panels(filters, cycle, keys, today=None):
    """The panels named in `keys` (in PANELS order) for `filters` over `cycle`."""
    data = CompanyData(filters, cycle, today or utc_today())
    without_jit()
    builders = {"departments": department_panel, "stores": store_panel, "grades": grade_panel,
                "movers": movers_panel, "freshness": freshness_panel,
                "per_head_departments": per_head_department_panel,
                "per_head_platforms": per_head_platform_panel}
    builders.update({f"trend_{key}": partial(trend_panel, key=key, label=label, metric=metric)
                     for key, label, metric in FAMILIES})
    return [builders[key](data) for key in PANELS if key in keys]


def all_stores(filters, cycle, after=None, limit=None, today=None):
    """(the all-stores panel, the next page's `after` or None): every chosen store by code,
    `limit` a page after the code `after` (`all_stores_panel`)."""
    data = CompanyData(filters, cycle, today or utc_today())
    small_reads(probes=True)
    return all_stores_panel(data, after, limit)


@dataclass
class StoreRow:
    id: int
    code: str
    platform: str


class CompanyData:
    """What the panels share, each loaded once on first use."""

    def __init__(self, filters, cycle, today):
        self.filters, self.cycle, self.today = filters, cycle, today
        first, last = filters.date_range(cycle) if cycle else (today, today - timedelta(days=1))
        self.first, self.last = first, min(last, today)

    @cached_property
    def stores(self):
        """Every chosen store [StoreRow] by code: O(stores), so only the Python fallbacks (a
        period that takes the Python path, a GMV formula that is not one measure) read it."""
        query = select(Store.id, Store.code, Store.platform).where(Store.id.in_(self.store_ids()))
        return [StoreRow(*row) for row in db.session.execute(query.order_by(Store.code))]

    @cached_property
    def any_store(self):
        return db.session.execute(select(exists(self.store_ids()))).scalar()

    @cached_property
    def platforms(self):
        """The platforms of the chosen stores (one query)."""
        return db.session.execute(select(Store.platform).where(Store.id.in_(self.store_ids())).distinct()
                                  .order_by(Store.platform)).scalars().all()

    @cached_property
    def departments(self):
        query = select(Department.id, Department.name).order_by(Department.name, Department.id)
        if self.filters.department:
            query = query.where(Department.id == self.filters.department)
        return db.session.execute(query).all()

    @cached_property
    def named(self):
        return named_items(self)

    def facts_of(self, ids):
        """FactSums of the stores `ids` only (for a table of a few stores)."""
        return FactSums(self.first, self.last, select(Store.id).where(Store.id.in_(ids)), self.fact_measures,
                        current_app.config["BASE_CURRENCY"])

    @cached_property
    def targets(self):
        return item_targets(self)

    @cached_property
    def formulas(self):
        return load_formulas({m for _k, _l, m in FAMILIES} | {m for _k, _l, m in PER_HEAD})

    @cached_property
    def facts(self):
        """The period's fact groups of the chosen stores for every measure the panels use,
        summed by the database on demand (`fact_sums.FactSums`); None without stores or days."""
        if not self.has_facts:
            return None
        return FactSums(self.first, self.last, self.fact_stores(), self.fact_measures,
                        current_app.config["BASE_CURRENCY"], shared=True)

    @property
    def has_facts(self):
        """Whether there are stores and days to sum, without building `facts` (on PostgreSQL that
        is a temporary table of every chosen store: the all-stores page needs only its page's)."""
        return self.first <= self.last and self.any_store

    @cached_property
    def fact_measures(self):
        """Every measure the panels' formulas read."""
        return {m for _definition, _formula, names in self.formulas.values() for m in names}

    @cached_property
    def daily(self):
        """{(day,): {measure: sums}} over all the chosen stores at share 1 (one grouped query)."""
        return self.facts.sums(("day",), measures=self.measures(*(metric for _k, _l, metric in FAMILIES)))

    def fact_stores(self):
        """The chosen stores as `FactSums` takes them: None (every store) without a platform or
        store filter, so its statements need no join to store."""
        return self.store_ids() if self.filters.platform or self.filters.store else None

    def store_ids(self):
        """SELECT of the chosen stores' ids (the platform and store filters)."""
        query = select(Store.id)
        if self.filters.platform:
            query = query.where(Store.platform == self.filters.platform)
        if self.filters.store:
            query = query.where(Store.id == self.filters.store)
        return query

    def measures(self, *metrics):
        return {m for metric in metrics if metric in self.formulas for m in self.formulas[metric][2]}

    def figure(self, metric, sums, first, last):
        return figure(self.formulas, metric, sums, (last - first).days + 1)

    def unit(self, metric):
        return self.formulas[metric][0].unit if metric in self.formulas else None

    def latest_cards(self, *columns):
        """A query over the latest scorecards of the cycle, with their person's department
        narrowed by the department filter."""
        query = queries.latest_only(select(*columns).select_from(Scorecard)
                                    .join(User, User.id == Scorecard.person_id)
                                    .where(Scorecard.cycle_id == self.cycle.id))
        if self.filters.department:
            query = query.where(User.department_id == self.filters.department)
        return query


def as_float(column):
    """A NUMERIC column as a float, to order by a quotient: SQLAlchemy casts a NUMERIC divisor to
    the dividend's declared precision (weights are NUMERIC(6, 2): a sum of them may not fit)."""
    return cast(column, Float)


def points_of(item):
    return func.coalesce(item.final_points, item.computed_points)


def rounded(value, unit):
    """A figure as the tables and downloads give it: fractions to 4 places (0.2213 = 22.13%),
    everything else to 2."""
    if value is None:
        return None
    return value.quantize(Decimal("0.0001") if unit == "fraction" else CENT)


def average(weighted, weights):
    """Σ(points × weight) / Σ weight, 2 places; None when nothing has points."""
    if weights is None or Decimal(str(weights)) == 0:
        return None
    return (Decimal(str(weighted)) / Decimal(str(weights))).quantize(CENT)


# ---- attainment ----------------------------------------------------------------------------

def department_attainment(data):
    """{department id: (people, people with points, attainment or None)} in one grouped query."""
    if data.cycle is None:
        return {}
    if dialect() == "postgresql":  # the cards' live sums kept by scorecard_total's triggers (0039)
        total = ScorecardTotal
        rows = db.session.execute(
            data.latest_cards(User.department_id, func.count(Scorecard.id),
                              func.count(case((total.live_scored > 0, 1))),
                              func.sum(total.live_weighted), func.sum(total.live_weights))
            .outerjoin(total, total.scorecard_id == Scorecard.id).group_by(User.department_id)).all()
        return {dept: (people, scored, average(weighted, weights))
                for dept, people, scored, weighted, weights in rows}
    item, points = ScorecardItem, points_of(ScorecardItem)
    rows = db.session.execute(
        data.latest_cards(User.department_id, func.count(distinct(Scorecard.id)),
                          func.count(distinct(case((points.is_not(None), Scorecard.id)))),
                          func.sum(points * item.weight), func.sum(case((points.is_not(None), item.weight))))
        .outerjoin(item, item.scorecard_id == Scorecard.id).group_by(User.department_id)).all()
    return {dept: (people, scored, average(weighted, weights))
            for dept, people, scored, weighted, weights in rows}


def department_panel(data):
    found = department_attainment(data)
    rows = [{"department": name, "people": found[dept_id][0], "with_data": found[dept_id][1],
             "attainment": found[dept_id][2]} for dept_id, name in data.departments if dept_id in found]
    rows, ranked = top_and_bottom(rows, lambda row: row["attainment"])
    note = _("Weight-averaged points of the items that have points so far; lower-is-better "
             "metrics are already reversed in the points.")
    if ranked:
        note = _("The %(n)s departments with the highest and the %(n)s with the lowest attainment, of "
                 "%(ranked)s departments with points.", n=RANKED, ranked=ranked) + " " + note
    columns = [Column("department", _("Department")), Column("people", _("People"), "count"),
               Column("with_data", _("People with data"), "count"),
               Column("attainment", _("Attainment (points, 100 = target)"), "points")]
    return Panel("departments", _("Attainment by department"), columns, rows,
                 attainment_spec(rows, "department", "people", _("%(weight)s people")), note=note)


def top_and_bottom(rows, score):
    """(rows, None) when there are at most 2 x RANKED rows; else (the RANKED rows with the highest
    `score` and the RANKED with the lowest, best first, rows without a score left out, the number
    of rows with one), so a table of departments is bounded whatever the number of teams."""
    if len(rows) <= 2 * RANKED:
        return rows, None
    scored = sorted((row for row in rows if score(row) is not None), key=lambda row: -score(row))
    if len(scored) <= 2 * RANKED:
        return scored, len(scored)
    return scored[:RANKED] + scored[-RANKED:], len(scored)


def attainment_spec(rows, key, count_key, count_label):
    if not rows:
        return None
    labels = {"points": _("Points (100 = target)"), "weight": count_label}
    return charts.points_bars([(row[key], row["attainment"], row[count_key]) for row in rows], labels)


def store_attainment(data, ids):
    """{store id: (metric items, attainment or None, items at risk)} of the stores `ids`: one
    grouped query over the cycle's latest metric items naming them (an item naming a store
    twice counts once), read from the stores' items (by store) so that the at-risk flag or
    rule (kpiapp.tracking.risk: the forecast misses the threshold, or the target without one)
    is read for their items only, not for every item of the cycle."""
    if data.cycle is None or not ids:
        return {}
    cards = data.latest_cards(Scorecard.id).subquery("cards")
    at_risk, definitions = at_risk_rule(select(cards.c.id), data.cycle, data.today)
    named = named_items(data, and_(metric_item(definitions), at_risk).label("at_risk"))
    risky = func.count(case((named.c.at_risk, 1)))
    # planned as the all-stores page plans it (`small_reads`): the stores' item rows probed by
    # store (~1,400 for 20 stores at 5,000 people), not a parallel scan of all 77,000 item-store
    # rows filtered by store (EXPLAIN ANALYZE alternated at load 9: 17-49 ms against 45-65 ms)
    with settings_for_one_statement(db.session.connection(), **PROBES):
        rows = db.session.execute(attainment_by_store(named).add_columns(risky)
                                  .where(named.c.store_id.in_(ids))).all()
    return {store_id: (count, average(weighted, weights), at_risk)
            for store_id, count, weighted, weights, at_risk in rows}


def attainment_by_store(named):
    """SELECT (store_id, items, Σ points × weight, Σ weight) grouped by store, over `named`
    (`named_items`)."""
    scored = case((named.c.points.is_not(None), named.c.weight))
    weighted, weights = func.sum(named.c.points * scored), func.sum(scored)
    if dialect() == "sqlite":  # NUMERIC is a float there: back to exact places
        weighted, weights = func.round(weighted, 4), func.round(weights, 2)
    return select(named.c.store_id, func.count().label("items"), weighted.label("weighted"),
                  weights.label("weights")).group_by(named.c.store_id)


def named_items(data, *columns):
    """The cycle's latest metric items, one row per store their scope names (a subquery), with
    `columns` of the item: the scopes as scorecard_item_store keeps them expanded (one row per
    item and store, so a store named twice is one row; models/appraisal.py ScorecardItemStore),
    not the JSON."""
    item, named = ScorecardItem, ScorecardItemStore
    return (data.latest_cards(item.id.label("item_id"), named.store_id.label("store_id"),
                              points_of(item).label("points"), item.weight.label("weight"), *columns)
            .join(item, item.scorecard_id == Scorecard.id).join(named, named.item_id == item.id)
            .where(item.kind == ItemKind.metric).subquery("named"))


def ranked_stores(data):
    """([StoreRow] of the RANKED chosen stores with the highest attainment, then the RANKED
    with the lowest (best first; each store once), {store id: (items, attainment)} of those, the
    number of stores with attainment): one query, ranked by the database (ties by store code)."""
    if data.cycle is None:
        return [], {}, 0
    limit = RANKED
    found = attainment_by_store(data.named).subquery("found")
    score = as_float(found.c.weighted) / as_float(found.c.weights)  # for ranking only: no NUMERIC(6, 2) cast
    ranked = (select(Store.id, Store.code, Store.platform, found.c["items"].label("item_count"), found.c.weighted,
                     found.c.weights,
                     func.row_number().over(order_by=(score.desc(), Store.code)).label("high"),
                     func.row_number().over(order_by=(score.asc(), Store.code.desc())).label("low"),
                     func.count().over().label("ranked"))
              .join(found, found.c.store_id == Store.id)
              .where(Store.id.in_(data.store_ids()), found.c.weights.is_not(None), found.c.weights != 0)
              .subquery("ranked"))
    rows = db.session.execute(select(ranked).where((ranked.c.high <= limit) | (ranked.c.low <= limit))
                              .order_by(ranked.c.high)).all()
    attainment = {row.id: (row.item_count, average(row.weighted, row.weights)) for row in rows}
    return [StoreRow(row.id, row.code, row.platform) for row in rows], attainment, (rows[0].ranked if rows else 0)


def store_rows(data, stores, found=None):
    """The store table's rows of `stores` [StoreRow], in that order: the items, items at risk and
    attainment grouped in SQL in one statement (`store_attainment`; `found`: {store id: (items,
    attainment)} already read, the same figures), GMV and ACoS summed by the database over
    these stores only."""
    ids = [store.id for store in stores]
    figures = store_attainment(data, ids)
    if found is None:
        found = {store_id: (count, attainment) for store_id, (count, attainment, _r) in figures.items()}
    risky = {store_id: at_risk for store_id, (_c, _a, at_risk) in figures.items()}
    facts = data.facts_of(ids) if ids and data.has_facts else None
    sums = facts.sums(("store",), measures=data.measures("gmv", "acos")) if facts else {}
    rows = []
    for store in stores:
        count, attainment = found.get(store.id, (0, None))
        mine = sums.get((store.id,), {})
        rows.append({"store": store.code, "items": count, "at_risk": risky.get(store.id, 0),
                     "attainment": attainment,
                     "gmv": rounded(data.figure("gmv", mine, data.first, data.last), "money"),
                     "acos": rounded(data.figure("acos", mine, data.first, data.last), "fraction")})
    return rows


def store_columns():
    return [Column("store", _("Store")), Column("items", _("KPI items on the store"), "count"),
            Column("at_risk", _("Items at risk"), "count"),
            Column("attainment", _("Attainment (points, 100 = target)"), "points"),
            Column("gmv", _("GMV"), "money"), Column("acos", _("ACoS"), "fraction")]


def store_panel(data):
    """The stores with the highest and the lowest attainment (RANKED of each): a bounded table
    whatever the number of stores; every store is on the all-stores page (`all_stores_panel`)."""
    stores, found, ranked = ranked_stores(data)
    rows = store_rows(data, stores, found)
    note = _("GMV and ACoS for the period in the base currency, each store in full.")
    if ranked > len(rows):
        note = _("The %(n)s stores with the highest and the %(n)s with the lowest attainment, of %(ranked)s "
                 "stores with points.", n=RANKED, ranked=ranked) + " " + note
    return Panel("stores", _("Attainment by store"), store_columns(), rows,
                 attainment_spec(rows, "store", "items", _("%(weight)s items")), note=note)


def all_stores_panel(data, after=None, limit=None):
    """Every chosen store by code, `limit` a page after the code `after` (keyset; limit None:
    every store, for a download). Returns (panel, the next page's `after` or None)."""
    query = (select(Store.id, Store.code, Store.platform).where(Store.id.in_(data.store_ids()))
             .order_by(Store.code))
    if after:
        query = query.where(Store.code > after)
    found = [StoreRow(*row) for row in db.session.execute(query if limit is None else query.limit(limit + 1))]
    stores = found if limit is None else found[:limit]
    rows = store_rows(data, stores)
    following = stores[-1].code if limit is not None and len(found) > limit else None
    return Panel("stores", _("Attainment by store"), store_columns(), rows,  # a table: every figure in view
                 note=_("GMV and ACoS for the period in the base currency, each store in full.")), following


# ---- grades of the last locked cycle -----------------------------------------------------

def last_locked_cycle():
    """The newest cycle with scorecards whose latest versions are all locked (one query)."""
    card, newer = aliased(Scorecard), aliased(Scorecard)
    newer_version = exists().where(and_(newer.cycle_id == card.cycle_id, newer.person_id == card.person_id,
                                        newer.version > card.version))
    open_card = exists().where(card.cycle_id == Cycle.id, card.state != S.LOCKED, ~newer_version)
    return db.session.execute(
        select(Cycle).where(exists().where(Scorecard.cycle_id == Cycle.id), ~open_card)
        .order_by(Cycle.period_end.desc(), Cycle.id.desc()).limit(1)).scalar()


def grade_panel(data):
    cycle = last_locked_cycle()
    title = _("Grades of the last locked cycle")
    columns = [Column("grade", _("Grade")), Column("count", _("People"), "count"),
               Column("share", _("Share"), "percent"), Column("quota", _("Quota (at most)"), "percent")]
    if cycle is None:
        return Panel("grades", title, columns, [])
    bands = grade_bands(cycle.grade_table)
    counts = Counter()
    department = data.filters.department or None
    for _dept, _name, grade, n in queries.cycle_grade_counts(cycle.id, bands, department):
        counts[grade] += n
    grades = list(counts.elements())
    over = {v.grade for v in scoring.distribution_check(grades, bands)}
    counted = [{"grade": b.grade, "count": grades.count(b.grade), "max_share": b.max_share,
                "over": b.grade in over} for b in bands]
    rows = [grade_row(g, len(grades)) for g in counted]
    return Panel("grades", f"{title}: {cycle.name}", columns, rows if grades else [],
                 charts.grade_bars(counted, chart_labels()) if grades else None)


def grade_row(counted, graded):
    share = (Decimal(counted["count"]) * 100 / graded).quantize(Decimal("0.1")) if graded else None
    quota = None if counted["max_share"] is None else Decimal(str(counted["max_share"])) * 100
    return {"grade": counted["grade"], "count": counted["count"], "share": share, "quota": quota}


# ---- KPI families by week ----------------------------------------------------------------

def weeks(first, last):
    """(Monday or first, Sunday or last) of every ISO week touching first..last."""
    out, start = [], first
    while start <= last:
        end = min(start + timedelta(days=6 - start.weekday()), last)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def item_targets(data):
    """{metric key: (Σ target, number of targets)} of the cycle's latest metric items (one query)."""
    if data.cycle is None:
        return {}
    item = ScorecardItem
    keys = [metric for _k, _l, metric in FAMILIES]
    targets = data.latest_cards(item.metric_key, func.sum(item.target), func.count(item.target))
    rows = db.session.execute(targets.join(item, item.scorecard_id == Scorecard.id)
                              .where(item.metric_key.in_(keys)).group_by(item.metric_key)).all()
    return {key: (Decimal(str(total)), count) for key, total, count in rows if count}


def week_target(data, metric, targets, first, last):
    """The target of one week (docs/dashboards.md): pro rata of the summed targets for an
    additive metric, the mean target for a ratio; None when filtered or no item has one."""
    f = data.filters
    if metric not in targets or f.department or f.platform or f.store:
        return None
    total, count = targets[metric]
    if data.unit(metric) in ADDITIVE:
        cycle_days = (data.cycle.period_end - data.cycle.period_start).days + 1
        return (total * ((last - first).days + 1) / cycle_days).quantize(CENT)
    return (total / count).quantize(Decimal("0.0001"))


def trend_panel(data, key, label, metric):
    unit = data.unit(metric)
    rows = [{"week": first.isoformat(), "actual": rounded(data.figure(metric, sums, first, last), unit),
             "target": week_target(data, metric, data.targets, first, last)}
            for (first, last), sums in weekly_sums(data)]
    columns = [Column("week", _("Week from")), Column("actual", _("Actual"), unit),
               Column("target", _("Target"), unit)]
    rows = rows if any(row["actual"] is not None for row in rows) else []
    spec = charts.trend_lines([(r["week"], r["actual"], r["target"]) for r in rows],
                              {"actual": _("Actual"), "target": _("Target"), "week": _("Week from")},
                              percent=unit == "fraction") if rows else None
    return Panel(f"trend_{key}", _(label), columns, rows, spec)


def weekly_sums(data):
    """[((first, last), {measure: sums})] of every week of the period, over all the chosen
    stores at share 1 (one grouped query by day, shared by the four trend panels)."""
    if data.facts is None:
        return []
    out = []
    for first, last in weeks(data.first, data.last):
        week = {}
        for (day,), sums in data.daily.items():
            if first <= day <= last:
                for measure, found in sums.items():
                    week[measure] = add(week.get(measure, NONE), found)
        out.append(((first, last), week))
    return out


# ---- movers --------------------------------------------------------------------------------

def movers_panel(data):
    """Stores by the change of the last 7 days' GMV with data against the 7 days before: the
    MOVERS most risen and most fallen, ranked by the database when GMV is one summed measure."""
    columns = [Column("store", _("Store")), Column("now", _("GMV, last 7 days"), "money"),
               Column("before", _("GMV, the 7 days before"), "money"),
               Column("change", _("Change"), "fraction")]
    end = newest_day(data, "gmv")
    rows = (sql_movers(data, end) if summed_measure(data, "gmv") else python_movers(data, end)) if end else []
    rows.sort(key=lambda row: (-row["change"], row["store"]))
    top = rows[:MOVERS]
    shown = top + [row for row in rows[::-1][:MOVERS] if row not in top][::-1]
    note = _("Week ending %(day)s.", day=end.isoformat()) if end else ""
    return Panel("movers", _("Top and bottom movers"), columns, shown, note=note)


def summed_measure(data, metric):
    """The base measure whose sum is `metric` (its formula is that measure alone), else None;
    None too when the period's rows are made in Python (`FactSums.rows`)."""
    definition, _formula, measures = data.formulas[metric]
    if data.facts.rows is None and len(measures) == 1 and definition.formula.strip() == measures[0]:
        return measures[0]
    return None


def python_movers(data, end):
    gmv = data.measures("gmv")
    now = data.facts.sums(("store",), (end - timedelta(days=6), end), measures=gmv)
    before = data.facts.sums(("store",), (end - timedelta(days=13), end - timedelta(days=7)), measures=gmv)
    return [row for row in (mover(data, store, end, now, before) for store in data.stores) if row is not None]


def sql_movers(data, end):
    """The candidates: the MOVERS stores with the largest and the smallest change, ranked by the
    database on the summed measure (one query); the rows computed as `mover` computes them."""
    measure = summed_measure(data, "gmv")
    weeks = ((end - timedelta(days=6), end), (end - timedelta(days=13), end - timedelta(days=7)))
    t = data.facts.store_totals(weeks, measure).subquery("totals")
    change = (as_float(t.c.total_0) - as_float(t.c.total_1)) / as_float(t.c.total_1)  # for ranking only
    ranked = (select(Store.id, Store.code, Store.platform, t.c.total_0.label("now"), t.c.total_1.label("before"),
                     func.row_number().over(order_by=(change.desc(), Store.code)).label("high"),
                     func.row_number().over(order_by=(change.asc(), Store.code.desc())).label("low"))
              .join(t, t.c.store_id == Store.id)
              .where(t.c.groups_0 > 0, t.c.groups_1 > 0, t.c.missing_0 == 0, t.c.missing_1 == 0,
                     t.c.total_0.is_not(None), t.c.total_1 != 0)
              .subquery("ranked"))
    found = db.session.execute(select(ranked).where((ranked.c.high <= MOVERS) | (ranked.c.low <= MOVERS))).all()
    rows = []
    for row in found:
        now = {(row.id,): {measure: (Decimal(str(row.now)), 1, 0)}}
        before = {(row.id,): {measure: (Decimal(str(row.before)), 1, 0)}}
        rows.append(mover(data, StoreRow(row.id, row.code, row.platform), end, now, before))
    return [row for row in rows if row is not None]


def mover(data, store, end, now_sums, before_sums):
    now = data.figure("gmv", now_sums.get((store.id,), {}), end - timedelta(days=6), end)
    before = data.figure("gmv", before_sums.get((store.id,), {}), end - timedelta(days=13), end - timedelta(days=7))
    if now is None or not before:
        return None
    return {"store": store.code, "now": rounded(now, "money"), "before": rounded(before, "money"),
            "change": ((now - before) / before).quantize(Decimal("0.0001"))}


def newest_day(data, metric):
    if data.facts is None or metric not in data.formulas:
        return None
    return data.facts.newest_day(set(data.formulas[metric][2]))


# ---- freshness -----------------------------------------------------------------------------

def freshness_panel(data):
    """The STALEST chosen stores by the last day of data in the period (no data first), with
    their newest committed import: ordered and cut by the database, so the table is bounded
    whatever the number of stores (two queries)."""
    rows = [{"store": code, "platform": platform_name(platform), "last": last,
             "days": None if last is None else (data.today - last).days, "imported": None, "id": store_id}
            for store_id, code, platform, last in stalest_stores(data)]
    r = ImportRecord
    imported = dict(db.session.execute(
        select(r.store_id, func.max(r.created_at))
        .where(r.status == ImportStatus.committed, r.kind == ImportKind.facts,
               r.store_id.in_([row["id"] for row in rows]))
        .group_by(r.store_id)).all()) if rows else {}
    for row in rows:
        found = imported.get(row.pop("id"))
        row["imported"] = found.date() if found else None
    columns = [Column("store", _("Store")), Column("platform", _("Platform")), Column("last", _("Last data")),
               Column("days", _("Days ago"), "count"), Column("imported", _("Last import"))]
    return Panel("freshness", _("Data freshness"), columns, rows,
                 note=_("The %(n)s stores whose data in this period is oldest (no data first); the store "
                        "dashboards list gives every store's latest data.", n=STALEST))


def stalest_stores(data):
    """[(store id, code, platform, last day or None)] of the STALEST chosen stores whose groups
    in the period end earliest (as PeriodFacts.rows, before picking), no data first (one query)."""
    query = select(Store.id, Store.code, Store.platform)
    if data.facts is not None:
        last = data.facts.last_days_query().subquery("last_days")
        query = query.add_columns(last.c.last).outerjoin(last, last.c.store_id == Store.id) \
            .order_by(last.c.last.is_not(None), last.c.last)
    else:
        query = query.add_columns(literal(None))
    query = query.where(Store.id.in_(data.store_ids())).order_by(Store.code).limit(STALEST)
    return db.session.execute(query).all()


# ---- per-head efficiency (人效) -----------------------------------------------------------

def months(first, last):
    out, start = [], first
    while start <= last:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        out.append((start, min(following - timedelta(days=1), last)))
        start = following
    return out


def platform_name(platform):
    text = presentation.PLATFORM_LABELS.get(str(platform))
    return str(platform) if text is None else _(text)


def staff():
    return (User.active.is_(True)) & (User.role != Role.client)


def per_head_sums(data, shares):
    """{(group id, month): {measure: sums}} of the per-head measures weighted by `shares` (a
    SELECT of store_id, group_id, share), grouped by the database."""
    return data.facts.sums(("month",), shares=shares, measures=data.measures(*(m for _k, _l, m in PER_HEAD)))


def per_head_rows(data, groups, heads, label_key, shares, sums=None):
    """One row per (group, month) of `groups` [(label, group id)]; the figures from the facts
    weighted by `shares` (`per_head_sums`, or those `sums` already read)."""
    if data.facts is None or not groups:
        return []
    sums = per_head_sums(data, shares) if sums is None else sums
    rows = []
    for label, group_id in groups:
        for first, last in months(data.first, data.last):
            row = {label_key: label, "month": f"{first:%Y-%m}", "heads": heads.get(group_id, 0)}
            found = sums.get((group_id, row["month"]), {})
            for key, _label, metric in PER_HEAD:
                total = data.figure(metric, found, first, last)
                row[key] = None if total is None else total.quantize(CENT)
                row[f"{key}_per_head"] = per_head(total, row["heads"])
            rows.append(row)
    return rows


def per_head(total, heads):
    return (total / heads).quantize(CENT) if total is not None and heads else None


def per_head_columns(label_key, label):
    columns = [Column(label_key, label), Column("month", _("Month")), Column("heads", _("Heads"), "count")]
    for key, name, metric in PER_HEAD:
        unit = "money" if metric != "units" else "count"
        columns += [Column(key, _(name), unit),
                    Column(f"{key}_per_head", _("%(name)s per head", name=_(name)), unit)]
    return columns


def per_head_spec(rows, label_key):
    points = [(row["month"], row[label_key], row["gmv_per_head"]) for row in rows]
    if not any(value is not None for _m, _g, value in points):
        return None
    return charts.group_lines(points, {"x": _("Month"), "y": _("GMV per head"), "group": ""})


def per_head_department_panel(data):
    heads, owning = department_heads(data)
    shares = (select(StoreOwner.store_id.label("store_id"), User.department_id.label("group_id"),
                     (func.sum(StoreOwner.share_pct) / 100).label("share"))
              .join(User, User.id == StoreOwner.person_id)
              .where(StoreOwner.store_id.in_(data.store_ids()),
                     User.department_id.in_([dept_id for dept_id, _name in data.departments]))
              .group_by(StoreOwner.store_id, User.department_id))
    owning = owning if data.facts else set()
    groups = [(name, dept_id) for dept_id, name in data.departments if dept_id in owning]
    rows, note = bounded_per_head(data, groups, heads, shares)
    return Panel("per_head_departments", _("Per-head efficiency by department"),
                 per_head_columns("department", _("Department")), rows, per_head_spec(rows, "department"),
                 note=_("Heads: active staff of the department today. Figures follow the shares its "
                        "people own of each store.") + note)


def department_heads(data):
    """({department id: its active staff}, {ids of the departments whose people own a share of a
    chosen store}) in one statement over the people (the owners' ids hashed once). The owning
    departments were a second statement that grouped store_owner x user by store and department
    again only to list them (10-20 ms at 5,000 people)."""
    owners = select(StoreOwner.person_id).where(StoreOwner.store_id.in_(data.store_ids()))
    rows = db.session.execute(select(User.department_id, func.count(case((staff(), User.id))),
                                     func.max(case((User.id.in_(owners), 1), else_=0)))
                              .group_by(User.department_id)).all()
    return ({dept_id: heads for dept_id, heads, _owns in rows if heads},
            {dept_id for dept_id, _heads, owns in rows if owns and dept_id is not None})


def gmv_reader(data):
    """A function (sums, first, last) -> the GMV `data.figure` gives for them. When GMV's formula
    is one measure, that measure's sum is read directly: the per-head ranking asks it for every
    department and month (1,875 times at 5,000 people, ~50 ms of CPU in `evaluate`). The same
    value: `figure` yields None without groups, with a missing rate or without a finite total,
    else the total as an exact division rounded to the context, which `+total` rounds alike."""
    definition, _formula, measures = data.formulas.get("gmv", (None, None, ()))
    if definition is None or len(measures) != 1 or definition.formula.strip() != measures[0]:
        return partial(data.figure, "gmv")
    measure = measures[0]

    def read(sums, _first, _last):
        total, groups, missing = sums.get(measure, NONE)
        if not groups or missing or total is None or not total.is_finite():
            return None
        return +total
    return read


def bounded_per_head(data, groups, heads, shares):
    """(the month rows of the RANKED departments of `groups` with the highest GMV per head over
    the period (the months' figures added) and the RANKED with the lowest, when there are more
    than 2 x RANKED departments, else of every one; the note that says so). Only GMV is
    evaluated for the departments left out (at 5,000 people: 600 departments x 3 months x 3
    figures were evaluated to show 20)."""
    if data.facts is None or not groups:
        return [], ""
    sums, gmv, spans = per_head_sums(data, shares), gmv_reader(data), months(data.first, data.last)
    period = {}
    for label, group_id in groups:
        for first, last in spans:
            found = sums.get((group_id, f"{first:%Y-%m}"), {})
            value = per_head(gmv(found, first, last), heads.get(group_id, 0))
            if value is not None:
                period[label] = period.get(label, Decimal(0)) + value
    departments = [{"department": label, "score": period.get(label)}
                   for label in dict.fromkeys(label for label, _id in groups)]
    kept, ranked = top_and_bottom(departments, lambda row: row["score"])
    if not ranked:
        return per_head_rows(data, groups, heads, "department", shares, sums), ""
    order = {row["department"]: n for n, row in enumerate(kept)}
    chosen = sorted((group for group in groups if group[0] in order), key=lambda group: order[group[0]])
    return (per_head_rows(data, chosen, heads, "department", shares, sums),
            " " + _("The %(n)s departments with the highest and the %(n)s with the lowest GMV per head "
                    "over the period, of %(ranked)s with data.", n=RANKED, ranked=ranked))


def per_head_platform_panel(data):
    heads = dict(db.session.execute(
        select(Store.platform, func.count(distinct(StoreOwner.person_id)))
        .join(StoreOwner, StoreOwner.store_id == Store.id).join(User, User.id == StoreOwner.person_id)
        .where(staff()).group_by(Store.platform)).all())
    shares = select(Store.id.label("store_id"), Store.platform.label("group_id"), literal(1).label("share")) \
        .where(Store.id.in_(data.store_ids()))
    groups = [(platform_name(platform), platform) for platform in data.platforms]
    rows = per_head_rows(data, groups, heads, "platform", shares)
    return Panel("per_head_platforms", _("Per-head efficiency by platform"),
                 per_head_columns("platform", _("Platform")), rows, per_head_spec(rows, "platform"),
                 note=_("Heads: active staff who own a share of one of the platform's stores."))
