"""fact_day: the facts a metric counts, pre-summed by day group (issue 10, docs/scaling.md "fact_day").

A recompute (metrics/batch.py) reads these groups instead of summing metric_fact: one row
per (store, family, measure, business_date, period_end, currency), the key `fact_groups`
groups by. Everything in `fact_filter` is a function of that key except the SKU-under-total
rule, and that rule only compares facts of the same store, family, day, period end, ref and
measure: so a group's sums do not depend on the period asked, and a slice (stores × families
× days) of fact_day depends only on the same slice of metric_fact.

How it stays exact: whoever writes facts replaces the day sums of the slice it wrote, in
the same transaction (`refresh`): the import (imports/services.write_facts, every upload and
connector pull goes through it), ORM flushes of MetricFact objects (tests, demo data: the
listener below), bulk deletes or updates of metric_fact through the session (a `rebuild`)
and archiving a month (`forget_month`).
The table can always be made again from the facts: `rebuild` (`flask kpi rebuild-fact-day`).
Each of these also replaces the same stores and days of fact_pick (metrics/fact_pick.py, the
dashboard's picked rows), which is derived from fact_day as fact_day is from metric_fact.
"""
from collections import defaultdict

from sqlalchemy import String, case, cast, delete, distinct, event, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from kpiapp.metrics import fact_month, fact_pick
from kpiapp.models import FactDay, MetricFact

STORES_PER_STATEMENT = 500  # keeps IN lists far below SQLite's bound-parameter limit
FACTS = MetricFact.__table__
DAYS = FactDay.__table__
KEY = ("store_id", "family", "measure", "business_date", "period_end", "currency")
COLUMNS = KEY + ("total", "facts", "all_facts", "import_ids")


def groups_query(stores, measures, first, last):
    """SELECT of fact_groups(stores, measures, first, last, None)'s rows (same groups, sums, counts
    and ORDER BY) with each group's import ids, from the day sums: no facts are summed."""
    d = DAYS.c
    key = [d[name] for name in KEY]
    return (select(*key, d.total, d.facts, d.import_ids)
            .where(d.store_id.in_(stores), d.measure.in_(measures), d.business_date >= first,
                   d.business_date <= last, d.period_end <= last, d.facts > 0)
            .order_by(*key))


def day_sums(dialect_name, where=()):
    """SELECT the fact_day rows of the facts matching the conditions `where`, in one scan (no self-join).

    The facts are first summed per key, ref, import and "is a total row"; a window over the
    total's key (store, family, day, period end, ref, measure) tells whether a total row
    exists there, and the outer GROUP BY keeps the SKU sums only where none does. A join of
    each SKU row to its total gave the same rows, but PostgreSQL planned it as a nested loop
    over a partition without statistics yet (a fresh import): one slice scan per fact.
    """
    f = FACTS.c
    is_total = case((f.sku == "", 1), else_=0).label("is_total")
    parts = (select(*(f[name] for name in KEY), f.ref, f.import_id, is_total,
                    func.sum(f.value).label("total"), func.count().label("facts"))
             .where(*where)
             .group_by(*(f[name] for name in KEY), f.ref, f.import_id, is_total).subquery("parts"))
    p = parts.c
    over = (p.store_id, p.family, p.business_date, p.period_end, p.ref, p.measure)
    has_total = func.max(p.is_total).over(partition_by=over).label("has_total")
    marked = select(parts, has_total).subquery("marked")
    m = marked.c
    counted = (m.is_total == 1) | (m.has_total == 0)
    ids = distinct(case((counted, cast(m.import_id, String))))
    import_ids = func.string_agg(ids, ",") if dialect_name == "postgresql" else func.group_concat(ids)
    return (select(*(m[name] for name in KEY), func.sum(case((counted, m.total))),
                   func.sum(case((counted, m.facts), else_=0)), func.sum(m.facts), import_ids)
            .group_by(*(m[name] for name in KEY)))


def plain_sums(dialect_name, where=()):
    """day_sums() for facts among which no SKU row has a total row over it (all have a SKU, or
    none has): every fact counts, so one GROUP BY gives the same rows, without the window."""
    f = FACTS.c
    ids = distinct(cast(f.import_id, String))
    import_ids = func.string_agg(ids, ",") if dialect_name == "postgresql" else func.group_concat(ids)
    return (select(*(f[name] for name in KEY), func.sum(f.value), func.count(), func.count(), import_ids)
            .where(*where).group_by(*(f[name] for name in KEY)))


def refresh(conn, stores, families, first_day, last_day, mixed=True, rows=None):
    """Replace the day sums of stores × families × [first_day, last_day] by those of the facts
    there now (in the caller's transaction). mixed=False: the caller knows the slice's facts
    are all SKU rows or all total rows, so the plain GROUP BY does (10× cheaper, docs/scaling.md).
    rows: the slice's day rows, summed by the caller from the facts it has just written into
    the empty slice (FactRows.day_sums): inserted as they are, metric_fact is not read."""
    families, stores = sorted(families), sorted(stores)
    sums = day_sums if mixed else plain_sums
    for start in range(0, len(stores), STORES_PER_STATEMENT):
        part = stores[start:start + STORES_PER_STATEMENT]
        conn.execute(delete(DAYS).where(*in_slice(DAYS, part, families, first_day, last_day)))
        if rows is None:
            conn.execute(insert(DAYS).from_select(
                list(COLUMNS), sums(conn.dialect.name, in_slice(FACTS, part, families, first_day, last_day))))
    if rows:
        conn.execute(insert(DAYS), rows)
    fact_pick.refresh(conn, stores, first_day, last_day)


def in_slice(table, stores, families, first_day, last_day):
    """The conditions of stores x families x [first_day, last_day] on metric_fact or fact_day."""
    c = table.c
    return c.store_id.in_(stores), c.family.in_(families), c.business_date.between(first_day, last_day)


def rebuild(conn, lock=False):
    """Make the whole table again from metric_fact; returns the number of day rows.

    lock (PostgreSQL): first take fact_day in EXCLUSIVE mode, so an import that refreshed
    its slice commits before the facts are read, and one that has not waits until this
    transaction ends (its refresh then sees the rebuilt rows).
    """
    if lock and conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE fact_day IN EXCLUSIVE MODE"))
    conn.execute(delete(DAYS))
    conn.execute(insert(DAYS).from_select(list(COLUMNS), day_sums(conn.dialect.name)))
    fact_pick.rebuild(conn)
    return conn.execute(select(func.count()).select_from(DAYS)).scalar()


def slices(rows):
    """(store, family) -> [first day, last day] of some facts' (store_id, family, business_date)."""
    bounds = {}
    for store_id, family, day in rows:
        first, last = bounds.get((store_id, family), (day, day))
        bounds[(store_id, family)] = (min(first, day), max(last, day))
    return bounds


def refresh_slices(conn, bounds):
    """refresh() each (store, family) slice of `slices()`, one statement pair per family and range."""
    by_range = defaultdict(set)
    for (store_id, family), (first, last) in bounds.items():
        by_range[(family, first, last)].add(store_id)
    for (family, first, last), stores in sorted(by_range.items()):
        refresh(conn, stores, {family}, first, last)


def forget_month(conn, first_day, last_day):
    """The day sums of a month whose facts left metric_fact (partitions.detach_month)."""
    conn.execute(delete(DAYS).where(DAYS.c.business_date.between(first_day, last_day)))
    fact_pick.forget(conn, first_day, last_day)


# ---- facts written through the ORM session ------------------------------------------------

@event.listens_for(Session, "after_flush")
def refresh_flushed_facts(session, _context):
    """MetricFact objects added, changed or deleted in a flush: their slices, old and new."""
    rows = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, MetricFact):
            rows.append((obj.store_id, obj.family, obj.business_date))
            rows += committed_key(obj)
    if rows:
        # the rates lock exclusive, before any other: the same transaction may flush rates later,
        # which take it exclusive; holding it shared meanwhile deadlocked two such transactions
        # (each waiting for the other's shared hold). Facts through the ORM are few (tests, the
        # demo, manual fixes); imports, which never write rates and facts together, keep it shared
        fact_month.lock_rates(session.connection())
        refresh_slices(session.connection(), slices(rows))


def committed_key(obj):
    """The (store, family, day) a changed fact had before this flush, when it had one."""
    attrs = inspect(obj).attrs
    old = [attrs[name].history.deleted for name in ("store_id", "family", "business_date")]
    if not any(old):
        return []
    return [tuple(values[0] if values else getattr(obj, name) for values, name in
                  zip(old, ("store_id", "family", "business_date")))]


@event.listens_for(Session, "do_orm_execute")
def rebuild_after_bulk_change(state):
    """A bulk DELETE or UPDATE of metric_fact through the session names no slice: rebuild."""
    if not (state.is_delete or state.is_update) or getattr(state.statement.table, "name", None) != FACTS.name:
        return None
    result = state.invoke_statement()
    rebuild(state.session.connection())
    return result
