"""fact_pick_day: fact_pick's rows summed across stores by (measure, business date, currency), in
their own currency (issue 10, docs/dashboards.md "The days kept").

The company dashboard's four trend lines sum the period's picked rows of every store by day:
at 10M facts ~500,000 fact_pick rows a request (7 measures x 60 days x 1,250 stores), grouped
in their own currency and then converted at each day's rate. Their sums by (measure, day,
currency) do not depend on the period, so they are kept here; the reader converts them at read
time as it converted fact_pick's (rate x the sum = the sum of total x rate, exact in NUMERIC), so
a rate written changes nothing here.

A row is shared by every store, so two imports of different stores would update it at once
(and a writer that refreshes several slices would lock keys in an order another writer may
reverse). So the table is kept by **deltas**, never updated:

* `subtract` before a writer deletes fact_pick's rows of some stores and days: their sums by
  key, negated, appended; `add` after it inserted the new rows: their sums appended. The writer
  holds fact_pick's per-store locks (fact_pick.lock_stores), so the rows it reads are the rows
  it deletes and inserts. Inserts only: no writer ever waits for another here.
* `compact` then folds the rows of the writer's days into one row per key (only the keys with
  more than one row: the others are folded already): on PostgreSQL one statement deletes them (rows another transaction holds are skipped, `FOR UPDATE SKIP LOCKED`,
  so it never waits either) and inserts their sums. Rows not yet committed by others are not
  seen, so not deleted; whatever a compaction deletes it inserts again summed, so the sums of
  every key are kept under any interleaving. A key that adds up to no group (every store's rows
  of that day gone) leaves no row.
* `rebuild` and `forget` follow fact_pick's (`flask kpi rebuild-fact-day`, an archived month).
  No import's delta rows outlive `forget`: every writer here reads or writes metric_fact first in its
  transaction, and the archive's DETACH locks metric_fact ACCESS EXCLUSIVE until it commits (after it).

So a key may have a few rows (a compaction that skipped a concurrent writer's); the reader sums
them and leaves out a key of no group. SQLite (one writer at a time) compacts in two statements;
it keeps the table with the same code, but the dashboard keeps its window there, as for fact_pick.
"""
from sqlalchemy import delete, func, insert, select, text

from kpiapp.models import FactPick, FactPickDay

DAYS = FactPickDay.__table__
PICKS = FactPick.__table__
COLUMNS = ("measure", "business_date", "currency", "total", "group_count")


def day_sums(stores=None, first_day=None, last_day=None, sign=1):
    """SELECT fact_pick's rows (of `stores` x first_day..last_day when given) summed by (measure,
    business date, currency), times `sign`."""
    p = PICKS.c
    where = [] if stores is None else [p.store_id.in_(stores), p.business_date.between(first_day, last_day)]
    total, groups = func.sum(p.total), func.sum(p.group_count)
    if sign < 0:
        total, groups = -total, -groups
    return (select(p.measure, p.business_date, p.currency, total, groups).where(*where)
            .group_by(p.measure, p.business_date, p.currency))


def subtract(conn, stores, first_day, last_day):
    """fact_pick's rows of `stores` x first_day..last_day are about to be deleted: their sums out."""
    conn.execute(insert(DAYS).from_select(list(COLUMNS), day_sums(stores, first_day, last_day, -1)))


def add(conn, stores, first_day, last_day):
    """fact_pick's rows of `stores` x first_day..last_day were just inserted: their sums in."""
    conn.execute(insert(DAYS).from_select(list(COLUMNS), day_sums(stores, first_day, last_day)))


# the rows to fold: a key's rows when it has more than one, or one of no group (a fold drops
# it). A key with a single row is folded already: a writer's fold leaves the keys its deltas did
# not reach (the other stores' share of its days) as they are
FOLDED = """
SELECT id FROM (
    SELECT id, group_count, total, COUNT(*) OVER (PARTITION BY measure, business_date, currency) AS key_rows
    FROM fact_pick_day WHERE business_date BETWEEN :first AND :last) AS days
WHERE key_rows > 1 OR (group_count = 0 AND total = 0)
"""
SUMS = """
SELECT measure, business_date, currency, SUM(total), SUM(group_count) FROM {rows}
GROUP BY measure, business_date, currency
HAVING SUM(group_count) <> 0 OR ROUND(SUM(total), 6) <> 0
"""
COLUMN_LIST = ", ".join(COLUMNS)
FOLD = f"""
WITH gone AS (
    DELETE FROM fact_pick_day WHERE id IN (
        SELECT id FROM fact_pick_day WHERE id IN ({FOLDED}) FOR UPDATE SKIP LOCKED)
    RETURNING {COLUMN_LIST})
INSERT INTO fact_pick_day ({COLUMN_LIST})
{SUMS.format(rows="gone")}
"""
FOLD_SQLITE = (f"INSERT INTO fact_pick_day ({COLUMN_LIST}) "
               + SUMS.format(rows=f"fact_pick_day WHERE id <= :upto AND id IN ({FOLDED})"),
               f"DELETE FROM fact_pick_day WHERE id <= :upto AND id IN ({FOLDED})")


def compact(conn, first_day, last_day):
    """One row per key of the days first_day..last_day (their sums unchanged): the keys with
    more than one row folded, the others left as they are."""
    bounds = {"first": first_day, "last": last_day}
    if conn.dialect.name == "postgresql":
        conn.execute(text(FOLD), bounds)
        return
    d = DAYS.c
    upto = conn.execute(select(func.max(d.id)).where(d.business_date.between(first_day, last_day))).scalar()
    if upto is None:
        return
    for statement in FOLD_SQLITE:  # the delete's keys: the sums just inserted add a row only to folded keys
        conn.execute(text(statement), {**bounds, "upto": upto})


def rebuild(conn):
    """Make the whole table again from fact_pick (one row per key)."""
    conn.execute(delete(DAYS))
    conn.execute(insert(DAYS).from_select(list(COLUMNS), day_sums()))


def forget(conn, first_day, last_day):
    """The days whose picked rows left fact_pick (an archived month)."""
    conn.execute(delete(DAYS).where(DAYS.c.business_date.between(first_day, last_day)))


def kept_sums(measures, first_day, last_day):
    """SELECT (measure, business_date, currency, total, groups) of the kept sums of `measures` with
    business dates first_day..last_day, the rows of one key summed, keys of no group left out:
    the same sums as fact_pick's rows grouped by those columns."""
    d = DAYS.c
    groups = func.sum(d.group_count)
    return (select(d.measure, d.business_date, d.currency, func.sum(d.total).label("total"),
                   groups.label("groups"))
            .where(d.measure.in_(sorted(measures)), d.business_date.between(first_day, last_day))
            .group_by(d.measure, d.business_date, d.currency).having(groups != 0))

