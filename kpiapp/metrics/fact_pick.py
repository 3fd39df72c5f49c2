"""fact_pick: the company dashboard's picked rows, kept between requests (issue 10,
docs/dashboards.md "The picked rows kept").

The dashboard counts, on each (store, measure, business date), only the groups of the family
that ranks first (`pick_families`); it found them with a window over the period's ~300,000
fact_day rows on every request (1.3-2.1 s at 10M facts). This table holds that choice for the
one-day groups, summed by (store, measure, day, currency) in the facts' own currency, so a
page reads it instead: FX rates are applied by the reader (a rate import changes nothing
here), and multi-day groups (monthly reports, a few rows) are read from fact_day, where the
period decides whether they count (see `dashboards.fact_sums.FactSums.picked_groups`).

Why the one-day choice does not depend on the period: a one-day group lies within any period
holding its day, so every group the window compares with it on its day is here too; a
multi-day group beside another family in the period sends the dashboard to its Python path
(`FactSums.ranges_overlap`), so outside that path a multi-day group never changes which
family ranks first on a day.

How it stays exact: the rows of (stores, days) depend only on fact_day's rows of the same
stores and days, so whoever replaces a slice of fact_day calls `refresh` for its stores and
days in the same transaction (metrics/fact_day.py: refresh, rebuild, forget_month). Two
imports of one store in different families may run at once (their locks are per store and
family); `refresh` takes a lock per store first, so the second reads the first's committed
fact_day rows. `rebuild` makes the whole table again (`flask kpi rebuild-fact-day` does both).
Each of these also rewrites the same stores' months of fact_month (metrics/fact_month.py, the
rows summed by month in the base currency), derived from fact_pick as fact_pick is from fact_day,
and keeps fact_pick_day (metrics/fact_pick_day.py, the rows summed across stores by day) by deltas.
"""
import hashlib

from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.orm import aliased

from kpiapp.metrics import fact_month, fact_pick_day
from kpiapp.metrics.services import FAMILY_PRIORITY
from kpiapp.models import FactDay, FactPick

STORES_PER_STATEMENT = 500
PICKS = FactPick.__table__
COLUMNS = ("store_id", "measure", "business_date", "currency", "total", "group_count")


def rank(family):
    """The family's place in FAMILY_PRIORITY as SQL (unlisted families after every listed one)."""
    return case({name: n for n, name in enumerate(FAMILY_PRIORITY)}, value=family, else_=len(FAMILY_PRIORITY))


def picks(stores=None, first_day=None, last_day=None):
    """SELECT fact_pick's rows from fact_day's one-day groups with facts (of `stores` ×
    [first_day, last_day] when given): one window over (store, measure, day)."""
    d = aliased(FactDay, name="d")
    where = [] if stores is None else [d.store_id.in_(stores), d.business_date.between(first_day, last_day)]
    first = func.min(rank(d.family)).over(partition_by=(d.store_id, d.measure, d.business_date))
    ranked = (select(d.store_id, d.measure, d.business_date, d.currency, d.total,
                     rank(d.family).label("rank"), first.label("first"))
              .where(*where, d.business_date == d.period_end, d.facts > 0)
              .subquery("ranked"))
    r = ranked.c
    return (select(r.store_id, r.measure, r.business_date, r.currency, func.sum(r.total), func.count())
            .where(r.rank == r.first).group_by(r.store_id, r.measure, r.business_date, r.currency))


def refresh(conn, stores, first_day, last_day):
    """Replace the rows of `stores` × [first_day, last_day] by those of fact_day there now (in
    the caller's transaction, after it replaced fact_day's)."""
    stores = sorted(stores)
    fact_month.lock_rates(conn, shared=True)  # before the store locks: every writer takes the rates lock first
    lock_stores(conn, stores)
    for start in range(0, len(stores), STORES_PER_STATEMENT):
        part = stores[start:start + STORES_PER_STATEMENT]
        fact_pick_day.subtract(conn, part, first_day, last_day)
        conn.execute(delete(PICKS).where(PICKS.c.store_id.in_(part),
                                         PICKS.c.business_date.between(first_day, last_day)))
        conn.execute(insert(PICKS).from_select(list(COLUMNS), picks(part, first_day, last_day)))
        fact_pick_day.add(conn, part, first_day, last_day)
    fact_pick_day.compact(conn, first_day, last_day)
    fact_month.refresh(conn, stores, first_day, last_day)


def lock_stores(conn, stores):
    """PostgreSQL: one transaction-scoped lock per store, in id order, so two writers of one
    store's days (two families) refresh its rows one after the other, the second reading the
    first's fact_day rows (READ COMMITTED: each statement sees what committed before it)."""
    if conn.dialect.name != "postgresql" or not stores:
        return
    keys = [int.from_bytes(hashlib.sha256(f"fact_pick:{s}".encode()).digest()[:8], "big", signed=True)
            for s in stores]
    conn.execute(text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                      "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS keys"),
                 {"keys": sorted(keys)})


def rebuild(conn):
    """Make the whole table again from fact_day; returns the number of rows."""
    conn.execute(delete(PICKS))
    conn.execute(insert(PICKS).from_select(list(COLUMNS), picks()))
    fact_pick_day.rebuild(conn)
    fact_month.rebuild(conn)
    return conn.execute(select(func.count()).select_from(PICKS)).scalar()


def forget(conn, first_day, last_day):
    """The rows of days whose day sums left fact_day (an archived month)."""
    conn.execute(delete(PICKS).where(PICKS.c.business_date.between(first_day, last_day)))
    fact_pick_day.forget(conn, first_day, last_day)
    fact_month.forget(conn, first_day, last_day)
