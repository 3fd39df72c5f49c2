"""The company dashboard's panels (docs/dashboards.md, "The company dashboard").

Set-based: a constant number of queries whatever the number of people, stores or
departments. The facts of the period are loaded once (`metrics.batch.PeriodFacts`, each
store at share 1) and every figure (a store's GMV, a department's share-weighted GMV, a
week's ACoS, a month's ad sales) is evaluated from those rows with the functions
`compute_metric` uses, so FX, shares and ratios from summed measures follow one rule.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property, partial

from flask_babel import gettext as _
from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import aliased

from kpiapp import charts, presentation
from kpiapp.appraisal import queries, scoring
from kpiapp.appraisal.services import grade_bands
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.chart_labels import chart_labels
from kpiapp.dashboards.panels import Column, Panel
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.metrics.batch import PeriodFacts, load_formulas, scope_of
from kpiapp.metrics.services import MetricValue, convert_and_weigh, evaluate
from kpiapp.models import (Cycle, Department, ImportRecord, Role, Scorecard, ScorecardItem, Store, StoreOwner,
                           User)
from kpiapp.models.appraisal import ItemKind
from kpiapp.models.metrics import ImportKind, ImportStatus
from kpiapp.tracking.paces import paced_items
from kpiapp.tracking.services import item_shares, utc_today

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
ADDITIVE = ("money", "count")
CENT = Decimal("0.01")
ONE = Decimal(1)


def company_panels(filters, cycle, keys, today=None):
    """The panels named in `keys` (in PANELS order) for `filters` over `cycle`."""
    data = CompanyData(filters, cycle, today or utc_today())
    builders = {"departments": department_panel, "stores": store_panel, "grades": grade_panel,
                "movers": movers_panel, "freshness": freshness_panel,
                "per_head_departments": per_head_department_panel,
                "per_head_platforms": per_head_platform_panel}
    builders.update({f"trend_{key}": partial(trend_panel, key=key, label=label, metric=metric)
                     for key, label, metric in FAMILIES})
    return [builders[key](data) for key in PANELS if key in keys]


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
        f = self.filters
        query = select(Store.id, Store.code, Store.platform).order_by(Store.code)
        if f.platform:
            query = query.where(Store.platform == f.platform)
        if f.store:
            query = query.where(Store.id == f.store)
        return [StoreRow(*row) for row in db.session.execute(query)]

    @cached_property
    def departments(self):
        query = select(Department.id, Department.name).order_by(Department.name, Department.id)
        if self.filters.department:
            query = query.where(Department.id == self.filters.department)
        return db.session.execute(query).all()

    @cached_property
    def at_risk(self):
        """{store id: metric items naming it that are at risk} (kpiapp.tracking.paces: the
        forecast misses the threshold, or the target without one; a constant number of queries)."""
        if self.cycle is None:
            return {}
        item = ScorecardItem
        ids = self.latest_cards(item.id).join(item, item.scorecard_id == Scorecard.id).where(
            item.kind == ItemKind.metric)
        counts = defaultdict(int)
        for paced, pace in paced_items(ids, self.today):
            for store_id in {store for store, _share in item_shares(paced.scope)} if pace.at_risk else ():
                counts[store_id] += 1
        return counts

    @cached_property
    def targets(self):
        return item_targets(self)

    @cached_property
    def formulas(self):
        return load_formulas({m for _k, _l, m in FAMILIES} | {m for _k, _l, m in PER_HEAD})

    @cached_property
    def facts(self):
        """The period's facts of the chosen stores for every metric the panels use (3 queries)."""
        if not self.stores or self.first > self.last:
            return None
        scopes = [scope_of(key, [(store.id, ONE)], self.first, self.last)
                  for key in self.formulas for store in self.stores]
        return PeriodFacts(self.first, self.last, scopes, self.formulas)

    def value(self, metric, shares, first, last):
        """The metric over stores weighted by `shares` ({store id: Decimal}) for first..last
        from the loaded facts; None for no data (as compute_metric)."""
        if self.facts is None or metric not in self.formulas or not shares or first > last:
            return None
        definition, formula, measures = self.formulas[metric]
        result = MetricValue(None, formula=str(formula), version=definition.version)
        wanted = frozenset(measures)
        groups = [g for store in sorted(shares) for g in self.facts.store_groups(store, wanted)[1]
                  if first <= g.business_date <= last]
        totals = convert_and_weigh(groups, shares, result, self.facts.rates)
        return evaluate(formula, measures, totals, result, (last - first).days + 1).value

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
    columns = [Column("department", _("Department")), Column("people", _("People"), "count"),
               Column("with_data", _("People with data"), "count"),
               Column("attainment", _("Attainment (points, 100 = target)"), "points")]
    return Panel("departments", _("Attainment by department"), columns, rows,
                 attainment_spec(rows, "department", "people", _("%(weight)s people")),
                 note=_("Weight-averaged points of the items that have points so far; lower-is-better "
                        "metrics are already reversed in the points."))


def attainment_spec(rows, key, count_key, count_label):
    if not rows:
        return None
    labels = {"points": _("Points (100 = target)"), "weight": count_label}
    return charts.points_bars([(row[key], row["attainment"], row[count_key]) for row in rows], labels)


def store_attainment(data):
    """{store id: (metric items, attainment or None)}: one query for the cycle's metric items."""
    if data.cycle is None:
        return {}
    item = ScorecardItem
    rows = db.session.execute(data.latest_cards(item.scope, points_of(item), item.weight)
                              .join(item, item.scorecard_id == Scorecard.id)
                              .where(item.kind == ItemKind.metric)).all()
    sums = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for scope, points, weight in rows:
        for store_id in {int(entry["store_id"]) for entry in scope or ()}:
            entry = sums[store_id]
            entry[0] += 1
            if points is not None:
                entry[1] += Decimal(str(points)) * Decimal(str(weight))
                entry[2] += Decimal(str(weight))
    return {store: (count, average(weighted, weights)) for store, (count, weighted, weights) in sums.items()}


def store_panel(data):
    found = store_attainment(data)
    rows = []
    for store in data.stores:
        count, attainment = found.get(store.id, (0, None))
        shares = {store.id: ONE}
        rows.append({"store": store.code, "items": count, "at_risk": data.at_risk.get(store.id, 0),
                     "attainment": attainment,
                     "gmv": rounded(data.value("gmv", shares, data.first, data.last), "money"),
                     "acos": rounded(data.value("acos", shares, data.first, data.last), "fraction")})
    columns = [Column("store", _("Store")), Column("items", _("KPI items on the store"), "count"),
               Column("at_risk", _("Items at risk"), "count"), Column("attainment", _("Attainment (points, 100 = target)"), "points"),
               Column("gmv", _("GMV"), "money"), Column("acos", _("ACoS"), "fraction")]
    shown = [row for row in rows if row["items"]]
    return Panel("stores", _("Attainment by store"), columns, rows,
                 attainment_spec(shown, "store", "items", _("%(weight)s items")),
                 note=_("GMV and ACoS for the period in the base currency, each store in full."))


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
    shares = {store.id: ONE for store in data.stores}
    unit = data.unit(metric)
    rows = [{"week": first.isoformat(), "actual": rounded(data.value(metric, shares, first, last), unit),
             "target": week_target(data, metric, data.targets, first, last)}
            for first, last in (weeks(data.first, data.last) if data.facts else [])]
    columns = [Column("week", _("Week from")), Column("actual", _("Actual"), unit),
               Column("target", _("Target"), unit)]
    rows = rows if any(row["actual"] is not None for row in rows) else []
    spec = charts.trend_lines([(r["week"], r["actual"], r["target"]) for r in rows],
                              {"actual": _("Actual"), "target": _("Target"), "week": _("Week from")},
                              percent=unit == "fraction") if rows else None
    return Panel(f"trend_{key}", _(label), columns, rows, spec)


# ---- movers --------------------------------------------------------------------------------

def movers_panel(data):
    """Stores by the change of the last 7 days' GMV with data against the 7 days before."""
    columns = [Column("store", _("Store")), Column("now", _("GMV, last 7 days"), "money"),
               Column("before", _("GMV, the 7 days before"), "money"),
               Column("change", _("Change"), "fraction")]
    end = newest_day(data, "gmv")
    rows = [row for row in (mover(data, store, end) for store in data.stores if end) if row is not None]
    rows.sort(key=lambda row: (-row["change"], row["store"]))
    top = rows[:MOVERS]
    shown = top + [row for row in rows[::-1][:MOVERS] if row not in top][::-1]
    note = _("Week ending %(day)s.", day=end.isoformat()) if end else ""
    return Panel("movers", _("Top and bottom movers"), columns, shown, note=note)


def mover(data, store, end):
    now = data.value("gmv", {store.id: ONE}, end - timedelta(days=6), end)
    before = data.value("gmv", {store.id: ONE}, end - timedelta(days=13), end - timedelta(days=7))
    if now is None or not before:
        return None
    return {"store": store.code, "now": rounded(now, "money"), "before": rounded(before, "money"),
            "change": ((now - before) / before).quantize(Decimal("0.0001"))}


def newest_day(data, metric):
    if data.facts is None or metric not in data.formulas:
        return None
    measures = frozenset(data.formulas[metric][2])
    days = (g.business_date for store in data.stores for g in data.facts.store_groups(store.id, measures)[1])
    return max(days, default=None)


# ---- freshness -----------------------------------------------------------------------------

def freshness_panel(data):
    """Each store's last day of data in the period (from the facts already loaded) and its
    newest committed import (one grouped query)."""
    r = ImportRecord
    imported = dict(db.session.execute(
        select(r.store_id, func.max(r.created_at))
        .where(r.status == ImportStatus.committed, r.kind == ImportKind.facts, r.store_id.is_not(None))
        .group_by(r.store_id)).all())
    rows = []
    for store in data.stores:
        last = last_day(data, store.id)
        rows.append({"store": store.code, "platform": platform_name(store.platform), "last": last,
                     "days": None if last is None else (data.today - last).days,
                     "imported": imported[store.id].date() if imported.get(store.id) else None})
    rows.sort(key=lambda row: (row["last"] is not None, row["last"] or date.min, row["store"]))
    columns = [Column("store", _("Store")), Column("platform", _("Platform")), Column("last", _("Last data")),
               Column("days", _("Days ago"), "count"), Column("imported", _("Last import"))]
    return Panel("freshness", _("Data freshness"), columns, rows,
                 note=_("The last day each store's data covers in this period; oldest first."))


def last_day(data, store_id):
    if data.facts is None:
        return None
    return max((g.period_end for g in data.facts.rows.get(store_id, ())), default=None)


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


def per_head_rows(data, groups, heads, label_key):
    """One row per (group, month): [(group label, {store: share}, group id)] × months."""
    rows = []
    for label, shares, group_id in groups:
        for first, last in months(data.first, data.last) if data.facts else []:
            row = {label_key: label, "month": f"{first:%Y-%m}", "heads": heads.get(group_id, 0)}
            for key, _label, metric in PER_HEAD:
                total = data.value(metric, shares, first, last)
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
    wanted = {dept_id for dept_id, _name in data.departments}
    store_ids = {store.id for store in data.stores}
    heads = dict(db.session.execute(select(User.department_id, func.count(User.id)).where(staff())
                                    .group_by(User.department_id)).all())
    owned = defaultdict(dict)
    for store_id, dept_id, share in db.session.execute(
            select(StoreOwner.store_id, User.department_id, func.sum(StoreOwner.share_pct))
            .join(User, User.id == StoreOwner.person_id).group_by(StoreOwner.store_id, User.department_id)):
        if store_id in store_ids and dept_id in wanted:
            owned[dept_id][store_id] = Decimal(str(share)) / 100
    groups = [(name, owned[dept_id], dept_id) for dept_id, name in data.departments if dept_id in owned]
    rows = per_head_rows(data, groups, heads, "department")
    return Panel("per_head_departments", _("Per-head efficiency by department"),
                 per_head_columns("department", _("Department")), rows, per_head_spec(rows, "department"),
                 note=_("Heads: active staff of the department today. Figures follow the shares its "
                        "people own of each store."))


def per_head_platform_panel(data):
    heads = dict(db.session.execute(
        select(Store.platform, func.count(distinct(StoreOwner.person_id)))
        .join(StoreOwner, StoreOwner.store_id == Store.id).join(User, User.id == StoreOwner.person_id)
        .where(staff()).group_by(Store.platform)).all())
    by_platform = defaultdict(dict)
    for store in data.stores:
        by_platform[store.platform][store.id] = ONE
    groups = [(platform_name(platform), shares, platform) for platform, shares in sorted(by_platform.items())]
    rows = per_head_rows(data, groups, heads, "platform")
    return Panel("per_head_platforms", _("Per-head efficiency by platform"),
                 per_head_columns("platform", _("Platform")), rows, per_head_spec(rows, "platform"),
                 note=_("Heads: active staff who own a share of one of the platform's stores."))
