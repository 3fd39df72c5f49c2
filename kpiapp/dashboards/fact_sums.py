"""The company dashboard's figures from facts, summed by the database (docs/dashboards.md,
"Sums in SQL").

The rows are those `metrics.batch.PeriodFacts` reads for the period (the fact_day groups of
the chosen stores and the panels' measures that lie within it), kept as `pick_families` keeps
them (a day covered by a higher-priority family drops the other families' groups) and
converted as `converted` converts them (money to the base currency at each business date's
rate; a group without its rate is counted as missing). `FactSums.sums` then groups them by
whatever the panel needs (store, day, month, department with its owners' shares, platform)
and returns (total, groups, groups missing a rate) per measure, so Python only sees the
small grouped result and evaluates each formula once on it (`figure`), as `compute_metric` does.

`pick_families` is one window: a group is kept when its family ranks first among the groups
of its store, measure and day. That equals the Python rule unless a multi-day group (a
monthly report) shares a store and measure with another family in the period (then days, not
dates, overlap, and a dropped multi-day group covers nothing in Python). For such a period
(`FactSums.ranges_overlap`, one query) the same rows are made in Python from PeriodFacts and
grouped there, so the figures never depend on which path ran.

The company panels on PostgreSQL (`shared`) do not run the window: the one-day groups it
keeps are kept between requests in fact_pick (metrics/fact_pick.py, refreshed with fact_day),
and each statement reads, through `stored_groups`, only the rows of its own measures and days
there (by a covering index) with the period's multi-day groups (docs/dashboards.md, "The
picked rows kept"); nothing is copied a request. The per-head panels' sums by store and month
read the months fact_month keeps (metrics/fact_month.py, converted when written) and only the
other days from fact_pick (`month_store_sums`); the sums by day over every store (the trend
lines) read fact_pick's rows kept summed across stores (metrics/fact_pick_day.py). SQLite and a
table of a few stores keep the window.
"""
import itertools
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import (Column, Integer, MetaData, Table, and_, case, cast, exists, func, literal, select,
                        union_all)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from kpiapp.extensions import db, dialect
from kpiapp.metrics import fact_month
from kpiapp.metrics.batch import PeriodFacts, scope_of
from kpiapp.metrics.fact_month import foreign, in_base, next_month
from kpiapp.metrics.fact_pick import rank
from kpiapp.metrics.fact_pick_day import kept_sums
from kpiapp.metrics.services import MetricValue, converted, evaluate
from kpiapp.models import FactDay, FactMonth, FactPick, FxRate, Store

NONE = (None, 0, 0)
TABLES = itertools.count(1)  # temporary tables: a fresh name each (one connection may hold several)


def month_of(day):
    """'YYYY-MM' of a date column."""
    return func.to_char(day, "YYYY-MM") if dialect() == "postgresql" else func.strftime("%Y-%m", day)


def within(d, stores, measures, first, last):
    """PeriodFacts.fact_query's WHERE over the fact_day alias `d`: groups of `stores` (ids or a
    SELECT; None: every store) and `measures` lying within first..last."""
    return [*of_stores(d, stores), d.measure.in_(measures), d.business_date >= first,
            d.business_date <= last, d.period_end <= last, d.facts > 0]


def of_stores(d, stores):
    """The WHERE on `d`'s store: none for None (every store: fact_day's and fact_pick's rows
    all name a store, by their foreign key, so the join to store that `IN (SELECT store.id FROM
    store)` costs a hash probe a row for nothing)."""
    return [] if stores is None else [d.store_id.in_(stores)]


class FactSums:
    """The period's picked and converted fact groups of `stores` (a SELECT of store ids, or None
    for every store) for `measures`, to be summed by the database."""

    def __init__(self, first, last, stores, measures, base, shared=False):
        """`shared`: several statements will read the picked rows (the company dashboard's
        panels), so on PostgreSQL each reads fact_pick (`picked_rows`)."""
        self.first, self.last, self.stores, self.measures, self.base = first, last, stores, sorted(measures), base
        self.has_ranges, overlap = self.multi_day()
        self.rows = self.python_rows() if overlap else None
        self.picked, self.by_store = None, {}
        # the company panels on PostgreSQL read the picked one-day groups kept in fact_pick; SQLite
        # (NUMERIC a float, the one-machine demo) keeps the window, its sums added in the old order,
        # and so does a table of a few stores (`facts_of`: a window over their few rows)
        self.stored = shared and dialect() == "postgresql"
        if self.rows is None and not self.stored:
            self.picked = self.picked_groups().cte("picked")

    def picked_rows(self, measures=None, between=None):
        """The picked rows as a FROM: the window's CTE, or on the stored path a subquery of
        fact_pick's rows of `measures` (default: all) with business dates `between` (first,
        last; default: the period), so a statement reads only what it sums (by the covering
        index on (measure, business_date)), not a copy of the whole period's rows."""
        if not self.stored:
            return self.picked
        return self.stored_groups(sorted(measures or self.measures), between or (self.first, self.last)) \
            .subquery("picked")

    def within(self, d):
        return within(d, self.stores, self.measures, self.first, self.last)

    def picks_within(self, p, measures, between):
        """The WHERE of fact_pick's rows (alias `p`) of the chosen stores, `measures` and business
        dates `between` (first, last) on the stored path."""
        first, last = between
        return [*of_stores(p, self.stores), p.measure.in_(measures), p.business_date >= first,
                p.business_date <= last]

    def ranges_within(self, g, measures, between):
        """The WHERE of the period's multi-day groups (fact_day alias `g`) of `measures` with
        business dates `between` (first, last): the stored path reads those from fact_day."""
        first, last = between
        return [*within(g, self.stores, measures, self.first, self.last), g.business_date != g.period_end,
                g.business_date >= first, g.business_date <= last]

    def ranges_overlap(self):
        """Whether a multi-day group shares a store and measure with another family (one query)."""
        return self.multi_day()[1]

    def multi_day(self):
        """(whether the period has a multi-day group, whether one shares a store and measure with
        another family), one query. Without any, the stored path's statements leave out their
        fact_day branch: PostgreSQL cannot estimate `business_date <> period_end` (it expected
        75,000 rows of the empty ix_fact_day_ranges at 10M facts) and planned parallel workers
        for them (~18 ms to start under load for a statement whose answer is one index probe)."""
        g, h = aliased(FactDay), aliased(FactDay)
        ranges = [*self.within(g), g.business_date != g.period_end]
        other = exists().where(*self.within(h), h.store_id == g.store_id, h.measure == g.measure,
                               h.family != g.family)
        # min(store_id), not EXISTS: expecting 75,000 rows, the planner looked for the first by a
        # scan of fact_day (600,000 rows); min() walks ix_fact_day_ranges, which leads with store_id
        first = select(func.min(g.store_id)).where(*ranges).scalar_subquery()
        return tuple(db.session.execute(select(first.is_not(None), exists().where(*ranges, other))).one())

    def picked_groups(self):
        """The SELECT of the kept and converted groups. Without multi-day groups beside another
        family (`ranges_overlap`), a group is covered exactly when a higher-priority family has
        a group on its day, so it is kept when its family ranks first among the groups of its
        store, measure and day: one window, one scan."""
        g = aliased(FactDay, name="g")
        amount, missing, rate_of = in_base(g, self.measures, self.base)
        first = func.min(rank(g.family)).over(partition_by=(g.store_id, g.measure, g.business_date))
        # the rates joined below the window: PostgreSQL cannot estimate `rank = first`, and from
        # a few expected rows it probed fx_rate once per group (a nested loop: 0.8 s at 10M facts)
        ranked = (select(g.store_id, g.measure, g.business_date, g.period_end, amount.label("amount"),
                         missing.label("missing"), rank(g.family).label("rank"), first.label("first"))
                  .outerjoin(FxRate, rate_of)
                  .where(*self.within(g)).subquery("ranked"))
        r = ranked.c
        return (select(r.store_id, r.measure, r.business_date, r.period_end, r.amount, r.missing,
                       literal(1).label("groups")).where(r.rank == r.first))

    def stored_groups(self, measures, between):
        """The SELECT of the same rows, of `measures` and business dates `between` only, from
        fact_pick (metrics/fact_pick.py: the one-day groups of
        the family ranking first on their store, measure and day, summed by currency) and the
        multi-day groups within the period from fact_day. Outside `ranges_overlap` a multi-day
        group shares its store and measure with no other family, so it is kept, and it changes
        no day's first family: fact_pick's choice, made without it, is the window's. Each row
        counts `groups` groups; money converted at read time, as `in_base`."""
        p = aliased(FactPick, name="p")
        amount, missing, rate_of = in_base(p, measures, self.base)
        one_day = (select(p.store_id, p.measure, p.business_date, p.business_date.label("period_end"),
                          amount.label("amount"), (missing * p.group_count).label("missing"),
                          p.group_count.label("groups"))
                   .outerjoin(FxRate, rate_of).where(*self.picks_within(p, measures, between)))
        g = aliased(FactDay, name="g")
        amount, missing, rate_of = in_base(g, measures, self.base)
        ranges = (select(g.store_id, g.measure, g.business_date, g.period_end, amount, missing, literal(1))
                  .outerjoin(FxRate, rate_of).where(*self.ranges_within(g, measures, between)))
        return union_all(one_day, ranges) if self.has_ranges else one_day

    def python_rows(self):
        """The same rows from PeriodFacts and the functions compute_metric uses."""
        formulas = {"all": (None, None, self.measures)}
        store_ids = db.session.execute(select(Store.id) if self.stores is None else self.stores).scalars().all()
        if not store_ids:
            return []
        facts = PeriodFacts(self.first, self.last, [scope_of("all", [(s, 1)], self.first, self.last)
                                                    for s in store_ids], formulas)
        rows = []
        for store in store_ids:
            picked = facts.store_groups(store, frozenset(self.measures))[1]
            amounts = dict((id(g), amount) for g, amount in converted(picked, MetricValue(None), facts.rates,
                                                                      self.base))
            rows += [PickedRow(g.store_id, g.measure, g.business_date, g.period_end, amounts.get(id(g)),
                               0 if id(g) in amounts else 1) for g in picked]
        return rows

    def sums(self, keys, between=None, shares=None, measures=None):
        """{key tuple: {measure: (total, groups, groups missing a rate)}} of the rows grouped by
        `keys` (names of KEYS), only rows whose business date is `between` (first, last) when
        given; with `shares` (a SELECT of store_id, group_id, share) each amount is counted
        once per group owning its store, times the share, and the group id leads the key.
        `measures`: only those (the rest of the period's measures are not read)."""
        if self.rows is not None:
            return python_sums(self.rows, keys, between, shares, measures)
        if self.stored:
            measures_, between_ = sorted(measures or self.measures), between or (self.first, self.last)
            if shares is None:
                query = self.stored_sums(keys, measures_, between_)
            elif tuple(keys) == ("month",):
                query = by_owner(self.store_sums((keys, between, measures and frozenset(measures)),
                                                 lambda: self.month_store_sums(measures_, between_)), shares)
            else:
                query = by_owner(self.store_sums((keys, between, measures and frozenset(measures)),
                                                 lambda: self.stored_sums(keys, measures_, between_, by_store=True)),
                                 shares)
            return sums_of(db.session.execute(query))
        p = self.picked_rows(measures, between).c
        columns = [KEYS[key][0](p).label(f"key_{n}") for n, key in enumerate(keys)]
        where = [] if between is None else [p.business_date >= between[0], p.business_date <= between[1]]
        where += [] if measures is None else [p.measure.in_(sorted(measures))]
        sums = [func.sum(p.amount).label("total"), func.sum(p.groups).label("groups"),
                func.sum(p.missing).label("missing")]
        if shares is None:
            query = select(*columns, p.measure, *sums).where(*where).group_by(*columns, p.measure)
        elif dialect() == "postgresql":
            per_store = select(p.store_id, *columns, p.measure, *sums).where(*where) \
                .group_by(p.store_id, *columns, p.measure)
            query = by_owner(self.store_sums((keys, between, measures and frozenset(measures)), lambda: per_store),
                             shares)
        else:  # NUMERIC is a float on SQLite: each amount times its share, added in the old order
            owners = shares.subquery("owners")
            query = (select(owners.c.group_id, *columns, p.measure, func.sum(p.amount * owners.c.share),
                            func.sum(p.groups), func.sum(p.missing))
                     .join(owners, owners.c.store_id == p.store_id).where(*where)
                     .group_by(owners.c.group_id, *columns, p.measure))
        return sums_of(db.session.execute(query))

    def month_store_sums(self, measures, between):
        """`stored_sums(("month",), measures, between, by_store=True)`, reading the months that
        fact_month keeps from there (docs/dashboards.md "The months kept", `month_plan`): a whole
        month of the period is its kept row; a partial one whose days outside the period are fewer
        than those inside (the first month of a cycle that starts mid-month) is its kept row less
        fact_pick's rows of the days outside (subtracted: exact in NUMERIC); the other days from
        fact_pick, and the period's multi-day groups from fact_day, as before. Then summed again
        by store, month and measure (no amount when every group misses its rate, as SUM of
        nothing). Each kept month's rows are read only while the month has no mark (in the same
        statement, so a rate written since `kept_months` looked sends that month to fact_pick)."""
        direct, kept = month_plan(between, self.kept_months(between))
        if not kept:
            return self.stored_sums(("month",), measures, between, by_store=True)
        parts = [self.stored_sums(("month",), measures, days, by_store=True) for days in direct]
        m = aliased(FactMonth, name="m")
        parts.append(select(m.store_id, func.to_char(m.month, "YYYY-MM").label("key_0"), m.measure,
                            m.total.label("total"), m.group_count.label("groups"), m.missing.label("missing"))
                     .where(*of_stores(m, self.stores), m.measure.in_(measures),
                            m.month.in_([month for month, _d, _o in kept]), ~marked(m.month)))
        for month, days, outside_days in kept:
            if self.has_ranges:
                parts.append(self.stored_sums(("month",), measures, days, by_store=True, picks=False)
                             .where(~marked(month)))
            parts += [negated(self.stored_sums(("month",), measures, span, by_store=True, multi_day=False))
                      .where(~marked(month)) for span in outside_days]
            parts.append(self.stored_sums(("month",), measures, days, by_store=True).where(marked(month)))
        rows = union_all(*parts).subquery("parts")
        keys, groups, missing = (rows.c.store_id, rows.c.key_0, rows.c.measure), func.sum(rows.c.groups), \
            func.sum(rows.c.missing)
        return (select(*keys, case((groups == missing, None), else_=func.sum(rows.c.total)).label("total"),
                       cast(groups, Integer).label("groups"), cast(missing, Integer).label("missing"))
                .group_by(*keys).having(groups > 0))

    def kept_months(self, between):
        """The first days of the months of `between` (first, last) that fact_month holds in the
        base currency and that no rate written since has marked."""
        first, last = between
        if first > last:
            return []
        same_base, marked_ = fact_month.readable(db.session.connection(), self.base, first.replace(day=1), last)
        if not same_base:
            return []
        months, month = [], first.replace(day=1)
        while month <= last:
            months += [] if month in marked_ else [month]
            month = next_month(month)
        return months

    def stored_sums(self, keys, measures, between, by_store=False, picks=True, multi_day=True):
        """SELECT ([store_id], key_0…, measure, total, groups, missing) on the stored path: the
        rows `stored_groups` reads, summed in their own currency first by the keys (and store),
        measure and currency, and by business date only where a rate applies (`foreign`), then
        converted at that date and currency's rate and summed by the keys: rate × Σ totals =
        Σ (total × rate), exact in NUMERIC. So the FX join and the final grouping see a few
        thousand rows, not one per store and day (225,000 at 10M facts for the trend panels'
        sums by day and for the per-head panels' sums by store and month). picks=False: only
        the multi-day groups, multi_day=False: only fact_pick's rows (`month_store_sums`)."""
        p, g = aliased(FactPick, name="p"), aliased(FactDay, name="g")

        def keyed(t):  # a month grouped as its first day: date_trunc costs a third less than to_char a row
            names = (["store_id"] if by_store else []) + [f"key_{n}" for n in range(len(keys))]
            columns = ([t.store_id] if by_store else []) + [
                func.date_trunc("month", t.business_date) if key == "month" else KEYS[key][0](t) for key in keys]
            return [column.label(name) for column, name in zip(columns, names)]

        def named(columns):  # the keys as KEYS gives them ('YYYY-MM' for a month), after the grouping
            return [func.to_char(c, "YYYY-MM").label(c.key) if c.key.startswith("key_") and
                    keys[int(c.key[4:])] == "month" else c for c in columns]

        if tuple(keys) == ("day",) and not by_store and self.stores is None:
            # every store by day (the trend lines): fact_pick's rows kept summed across stores
            # (fact_pick_day, the same sums by measure, day and currency), not every store's rows
            k = kept_sums(measures, *between).subquery("kept")
            one_day = select(k.c.business_date.label("key_0"), k.c.measure, k.c.business_date, k.c.currency,
                             k.c.total, k.c.groups)
        else:
            one_day = (select(*keyed(p), p.measure, p.business_date, p.currency, p.total,
                              p.group_count.label("groups")).where(*self.picks_within(p, measures, between)))
        ranges = (select(*keyed(g), g.measure, g.business_date, g.currency, g.total, literal(1).label("groups"))
                  .where(*self.ranges_within(g, measures, between)))
        branches = ([one_day] if picks else []) + ([ranges] if self.has_ranges and multi_day else [])
        rows = (union_all(*branches) if len(branches) > 1 else branches[0]).subquery("picked")
        out = [c for c in rows.c if c.key == "store_id" or c.key.startswith("key_")]
        if by_store:
            amount, missing, rate_of = in_base(rows.c, measures, self.base)
            return (select(*named(out), rows.c.measure, func.sum(amount).label("total"),
                           cast(func.sum(rows.c.groups), Integer).label("groups"),
                           cast(func.sum(missing * rows.c.groups), Integer).label("missing"))
                    .select_from(rows.outerjoin(FxRate, rate_of)).group_by(*out, rows.c.measure))
        day = case((foreign(rows.c, measures, self.base), rows.c.business_date)).label("business_date")
        own = (select(*out, rows.c.measure, rows.c.currency, day, func.sum(rows.c.total).label("total"),
                      func.sum(rows.c.groups).label("groups"))
               .group_by(*out, rows.c.measure, rows.c.currency, day).subquery("own"))
        amount, missing, rate_of = in_base(own.c, measures, self.base)
        out = [own.c[c.key] for c in out]
        return (select(*named(out), own.c.measure, func.sum(amount).label("total"),
                       cast(func.sum(own.c.groups), Integer).label("groups"),
                       cast(func.sum(missing * own.c.groups), Integer).label("missing"))
                .select_from(own.outerjoin(FxRate, rate_of)).group_by(*out, own.c.measure))

    def store_sums(self, key, per_store):
        """The SELECT `per_store()` as a subquery; in a temporary table on the stored path (made
        once for `key` and kept: the two per-head panels group the same rows by store and month,
        225,000 of them at 10M facts)."""
        if not self.stored:
            return per_store().subquery("per_store")
        if key not in self.by_store:
            self.by_store[key] = temporary(per_store())
        return self.by_store[key]

    def store_totals(self, ranges, measure):
        """SELECT (store_id, then total_N, groups_N, missing_N for each (first, last) of `ranges`)
        of `measure` by store over the picked rows: one pass (the CTE read once) for the
        database to rank stores on (SQL path only)."""
        p = self.picked_rows({measure}, (min(first for first, _l in ranges), max(last for _f, last in ranges))).c
        columns = []
        for n, (first, last) in enumerate(ranges):
            inside = and_(p.business_date >= first, p.business_date <= last)
            columns += [func.sum(case((inside, p.amount))).label(f"total_{n}"),
                        func.coalesce(func.sum(case((inside, p.groups))), 0).label(f"groups_{n}"),
                        func.sum(case((inside, p.missing), else_=0)).label(f"missing_{n}")]
        return (select(p.store_id, *columns)
                .where(p.measure == measure, p.business_date >= min(first for first, _l in ranges),
                       p.business_date <= max(last for _f, last in ranges))
                .group_by(p.store_id))

    def newest_day(self, measures):
        """The newest business date of the picked rows of `measures`; None without any."""
        if self.rows is not None:
            return max((r.business_date for r in self.rows if r.measure in measures), default=None)
        if self.stored:  # fact_pick's newest day (a backward probe of its (measure, day) index), no FX join
            p, g = aliased(FactPick, name="p"), aliased(FactDay, name="g")
            period = (self.first, self.last)
            one_day = select(func.max(p.business_date)).where(
                *self.picks_within(p, sorted(measures), period)).scalar_subquery()
            ranges = select(func.max(g.business_date)).where(
                *self.ranges_within(g, sorted(measures), period)).scalar_subquery()
            return db.session.execute(select(func.greatest(one_day, ranges) if self.has_ranges else one_day)).scalar()
        p = self.picked_rows(measures).c
        return db.session.execute(select(func.max(p.business_date)).where(p.measure.in_(sorted(measures)))).scalar()

    def last_days_query(self):
        """SELECT (store_id, last) of the last day each store's groups in the period cover
        (before picking, as PeriodFacts.rows), grouped by the database. On the stored path from
        the picked rows, which gives the same day: outside the Python path a dropped group is a
        one-day group (a multi-day one beside another family is `ranges_overlap`) and the kept
        group of its day ends on that day or later."""
        if self.stored:
            return self.stored_last_days()
        d = aliased(FactDay)
        return select(d.store_id, func.max(d.period_end).label("last")).where(*self.within(d)).group_by(d.store_id)

    def stored_last_days(self):
        """`last_days_query` on the stored path: per store, its newest kept day in the period of
        the measures (one backward probe of fact_pick's (store_id, business_date) index, which
        includes the measure) and its multi-day groups' last period end (ix_fact_day_ranges),
        not a grouping of the period's rows (300,000 at 10M facts); NULL for a store without."""
        store, p, g = aliased(Store, name="s"), aliased(FactPick, name="p"), aliased(FactDay, name="g")
        one_day = select(func.max(p.business_date)).where(
            p.store_id == store.id, p.measure.in_(self.measures),
            p.business_date >= self.first, p.business_date <= self.last).scalar_subquery()
        ranges = select(func.max(g.period_end)).where(
            g.store_id == store.id, g.business_date != g.period_end,
            *within(g, None, self.measures, self.first, self.last)).scalar_subquery()
        last = func.greatest(one_day, ranges) if self.has_ranges else one_day
        query = select(store.id.label("store_id"), last.label("last"))
        return query if self.stores is None else query.where(store.id.in_(self.stores))

    def last_days(self):
        """{store id: the last day its groups in the period cover} (before picking, as
        PeriodFacts.rows)."""
        d = aliased(FactDay)
        return dict(db.session.execute(select(d.store_id, func.max(d.period_end)).where(*self.within(d))
                                       .group_by(d.store_id)).all())


def month_plan(between, kept):
    """How `month_store_sums` reads the days `between` (first, last), given the months fact_month
    keeps (`kept`, first days): (runs of days read from fact_pick, [(month, its days in the
    period, the runs of its days outside the period)] for the months read from fact_month).
    A kept month is read from there when the period holds more of its days than it leaves out
    (a whole month leaves none); the left-out days are then read and subtracted."""
    first, last = between
    direct, months, month = [], [], first.replace(day=1)
    while month <= last:
        end = next_month(month) - timedelta(days=1)
        days = (max(first, month), min(last, end))
        inside = (days[1] - days[0]).days + 1
        if month in kept and (end - month).days + 1 - inside < inside:
            months.append((month, days, [(a, b) for a, b in ((month, days[0] - timedelta(days=1)),
                                                             (days[1] + timedelta(days=1), end)) if a <= b]))
        elif direct and direct[-1][1] + timedelta(days=1) == days[0]:
            direct[-1] = (direct[-1][0], days[1])
        else:
            direct.append(days)
        month = next_month(month)
    return direct, months


def marked(month):
    """Whether fact_month_stale marks `month` (a date or a column), as SQL."""
    return exists().where(fact_month.STALE.c.month == month)


def negated(query):
    """`query`'s rows (store_id, key_0, measure, total, groups, missing) with the sums negated."""
    s = query.subquery("outside")
    return select(s.c.store_id, s.c.key_0, s.c.measure, (-s.c.total).label("total"),
                  (-s.c.groups).label("groups"), (-s.c.missing).label("missing"))


def temporary(query):
    """A temporary table of `query`'s rows (CREATE … ON COMMIT DROP AS, one statement), as a
    Table with the query's column names and types."""
    table = Table(f"fact_sums_{next(TABLES)}", MetaData(),
                  *(Column(column.key, column.type) for column in query.selected_columns))
    db.session.execute(CreateTempAs(table.name, query))
    return table


def sums_of(result):
    """{key tuple: {measure: (total, groups, missing)}} of rows (key…, measure, total, groups, missing)."""
    found = defaultdict(dict)
    for *key, measure, total, groups, missing in result:  # a float on SQLite: through its text
        exact = total if total is None or isinstance(total, Decimal) else Decimal(str(total))
        found[tuple(key)][measure] = (exact, groups, missing)
    return found


def by_owner(s, shares):
    """`s` (key_N columns, measure, total, groups, missing and store_id, grouped by store)
    summed per owning group: Σ(amount × share) over a store's rows is share × Σ amount, exact
    in NUMERIC, so the owners' shares join a row per store, key and measure, not one per fact
    group (217,440 joined rows at 10M facts). Counts stay counts of groups."""
    owners = shares.subquery("owners")
    keys = [c for c in s.c if c.key.startswith("key_")]
    return (select(owners.c.group_id, *keys, s.c.measure, func.sum(s.c.total * owners.c.share),
                   cast(func.sum(s.c.groups), Integer), cast(func.sum(s.c.missing), Integer))
            .join(owners, owners.c.store_id == s.c.store_id).group_by(owners.c.group_id, *keys, s.c.measure))


class CreateTempAs(Executable, ClauseElement):
    """CREATE TEMPORARY TABLE name ON COMMIT DROP AS query (PostgreSQL), with bound parameters
    (SQLAlchemy's CreateTableAs renders them literally and has no ON COMMIT)."""

    inherit_cache = False

    def __init__(self, name, query):
        self.name, self.query = name, query


@compiles(CreateTempAs)
def compile_create_temp_as(element, compiler, **kw):
    return (f"CREATE TEMPORARY TABLE {compiler.preparer.quote(element.name)} ON COMMIT DROP AS "
            f"{compiler.process(element.query, **kw)}")


class PickedRow:
    __slots__ = ("store_id", "measure", "business_date", "period_end", "amount", "missing")

    def __init__(self, store_id, measure, business_date, period_end, amount, missing):
        self.store_id, self.measure, self.business_date = store_id, measure, business_date
        self.period_end, self.amount, self.missing = period_end, amount, missing


# name: (SQL expression of the picked columns, the same of a PickedRow)
KEYS = {"store": (lambda p: p.store_id, lambda row: row.store_id),
        "day": (lambda p: p.business_date, lambda row: row.business_date),
        "month": (lambda p: month_of(p.business_date), lambda row: f"{row.business_date:%Y-%m}")}


def python_sums(rows, keys, between, shares, measures):
    owners = defaultdict(list)
    for store_id, group_id, share in (db.session.execute(shares) if shares is not None else ()):
        owners[store_id].append(((group_id,), Decimal(str(share))))
    found = defaultdict(dict)
    for row in rows:
        if between is not None and not between[0] <= row.business_date <= between[1]:
            continue
        if measures is not None and row.measure not in measures:
            continue
        key = tuple(KEYS[name][1](row) for name in keys)
        for group, share in owners[row.store_id] if shares is not None else [((), None)]:
            amount = row.amount if share is None or row.amount is None else row.amount * share
            by_measure = found[group + key]
            by_measure[row.measure] = add(by_measure.get(row.measure, NONE), (amount, 1, row.missing))
    return found


def add(a, b):
    """Two (total, groups, missing) sums of the same measure added (a group without its rate
    adds no amount, as SUM skips NULL)."""
    totals = [t for t in (a[0], b[0]) if t is not None]
    return (sum(totals, Decimal(0)) if totals else None, a[1] + b[1], a[2] + b[2])


def figure(formulas, metric, sums, days):
    """The metric's value from {measure: (total, groups, missing)}; None for no data, a
    missing rate or a missing measure (evaluate's rules)."""
    if metric not in formulas:
        return None
    definition, formula, measures = formulas[metric]
    result = MetricValue(None, formula=str(formula), version=definition.version)
    found = {m: sums[m] for m in measures if m in sums and sums[m][1]}
    if any(missing for _t, _g, missing in found.values()):
        result.missing_rates.append("missing")
    totals = {m: total for m, (total, _g, _missing) in found.items()}
    return evaluate(formula, measures, totals, result, days).value

