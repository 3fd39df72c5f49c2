"""fact_month: fact_pick's rows summed by (store, measure, month) in the base currency (issue 10,
docs/dashboards.md "The months kept").

The company dashboard's per-head panels sum the period's picked rows by store and month: at
10M facts 225,000 fact_pick rows a request (3 measures × 60 days × 1,250 stores), each joined
to its day's rate (194 ms of a ~450 ms page). A whole month's sum does not depend on the
period, so it is kept here, converted when written; a reader takes the period's whole months
from this table and only the edge days of a partial month from fact_pick.

Model: one row per (store, measure, month) holding fact_pick's rows of that month, with
`total` = Σ total × rate of its business date for money in another currency than `base` (else
Σ total; a row without its rate adds nothing: `in_base`, the one rule the reader applies to
fact_pick too), `group_count` the groups the rows stand for and `missing` those without
their rate. Only the one-day groups (fact_pick's); the period's multi-day groups are still
read from fact_day and added by the reader.

Kept exact, never stale:
* facts: `fact_pick.refresh` (every import, the ORM listener), `rebuild` and `forget` call
  `refresh`, `rebuild` and `forget` here in the same transaction, for the same stores and the
  whole months of their days. The writer holds fact_pick's per-store lock, so no other writer
  changes those stores' rows meanwhile.
* rates: a rate is per day, so a rate written changes its month's sums. A trigger on fx_rate
  (kpiapp/dbtriggers.py, `create_rate_mark_triggers`) marks the month of every rate inserted,
  updated or deleted, whatever writes it (import, ORM, raw SQL), in `fact_month_stale`; a
  reader takes a marked month from fact_pick. `refresh_rates` (called by the rate import and by
  the ORM listener below after a flush of FxRate objects) deletes the marks, rewrites those
  months and the months of the rates it wrote, in the writer's transaction, so after it
  commits the month is read from here again.
* concurrency (PostgreSQL, READ COMMITTED): fact writers take `RATES` shared, the rate writers
  exclusive, before writing: a rate writer waits for the fact writers in progress to commit
  and then reads their rows; a fact writer that starts later waits for the rates to commit and
  then converts at them. Each transaction takes it before any other lock of these writers
  (fact_pick's store locks), at its strongest first: the ORM's fact writer (fact_day's flush
  listener) takes it exclusive, because its transaction may flush rates later, and upgrading a
  shared hold deadlocks two such transactions. A raw write of a rate takes no lock but leaves its mark, which a
  refresh only deletes by a DELETE that waits for the writer's row lock on the mark.
* the base currency: every row names the base it was converted to; when any row names another
  base than the configuration's, the reader does not read the table (`flask kpi
  rebuild-fact-day` writes it again in the new base).

SQLite keeps the table with the same code (the demo's tables stay the same); the dashboard
reads it on PostgreSQL only, as fact_pick (SQLite's NUMERIC is a float).
"""
import hashlib
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Date, and_, case, cast, delete, event, func, insert, literal, literal_column, select, text
from sqlalchemy.orm import Session, aliased

from kpiapp.models import FactMonth, FactMonthStale, FactPick, FxRate
from kpiapp.parsers.measures import BASE_MEASURES

STORES_PER_STATEMENT = 500
MONTHS = FactMonth.__table__
STALE = FactMonthStale.__table__
COLUMNS = ("store_id", "measure", "month", "base", "total", "group_count", "missing")
RATES = int.from_bytes(hashlib.sha256(b"fact_month:rates").digest()[:8], "big", signed=True)


def in_base(d, measures, base):
    """(the row's total in the base currency, 1 when its rate is missing else 0, the ON clause
    of the FxRate outer join) of the alias `d` (fact_day or fact_pick rows), as
    `metrics.services.converted` converts: money in another currency times its business
    date's rate."""
    foreign_ = foreign(d, measures, base)
    return (case((foreign_, d.total * FxRate.rate), else_=d.total),
            case((and_(foreign_, FxRate.rate.is_(None)), 1), else_=0),
            and_(foreign_, FxRate.date == d.business_date, FxRate.currency == d.currency))


def foreign(d, measures, base):
    """Whether the row of `d` is money in another currency than `base` (converted at a rate)."""
    money = [m for m in measures if BASE_MEASURES[m].unit == "money"]
    return and_(d.measure.in_(money), d.currency.is_not(None), d.currency != "", d.currency != base)


def month_start(dialect_name, day):
    """The first day of the month of the date column `day`."""
    if dialect_name == "postgresql":
        return cast(func.date_trunc(literal_column("'month'"), day), Date)
    return func.date(day, literal_column("'start of month'"))


def month_bounds(first_day, last_day):
    """(the first day of first_day's month, the last day of last_day's month)."""
    return first_day.replace(day=1), next_month(last_day) - timedelta(days=1)


def next_month(day):
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_sums(dialect_name, base, stores=None, first=None, last=None):
    """SELECT fact_month's rows (COLUMNS) of fact_pick's rows of `stores` (None: all) with
    business dates first..last (None: all; whole months)."""
    p = aliased(FactPick, name="p")
    amount, missing, rate_of = in_base(p, sorted(BASE_MEASURES), base)
    month = month_start(dialect_name, p.business_date)
    where = ([] if stores is None else [p.store_id.in_(stores)]) + \
        ([] if first is None else [p.business_date.between(first, last)])
    return (select(p.store_id, p.measure, month, literal(base), func.sum(amount), func.sum(p.group_count),
                   func.sum(missing * p.group_count))
            .outerjoin(FxRate, rate_of).where(*where).group_by(p.store_id, p.measure, month))


def base_currency():
    return current_app.config["BASE_CURRENCY"]


def refresh(conn, stores, first_day, last_day):
    """Rewrite the months of first_day..last_day of `stores` from fact_pick (the caller has just
    replaced fact_pick's rows there, holding its store locks)."""
    lock_rates(conn, shared=True)
    first, last = month_bounds(first_day, last_day)
    stores = sorted(stores)
    for start in range(0, len(stores), STORES_PER_STATEMENT):
        part = stores[start:start + STORES_PER_STATEMENT]
        conn.execute(delete(MONTHS).where(MONTHS.c.store_id.in_(part), MONTHS.c.month.between(first, last)))
        conn.execute(insert(MONTHS).from_select(
            list(COLUMNS), month_sums(conn.dialect.name, base_currency(), part, first, last)))


def refresh_rates(conn, days=()):
    """After rates were written (of the dates `days`, in this transaction): rewrite their months
    and every marked month for all stores, and delete the marks. The marks are deleted first,
    so a rate written meanwhile by raw SQL waits for this transaction and marks its month again."""
    lock_rates(conn)
    marked = set(conn.execute(select(STALE.c.month)).scalars())
    conn.execute(delete(STALE).where(STALE.c.month.in_(sorted(marked))))
    for month in sorted(marked | {as_date(day).replace(day=1) for day in days}):
        first, last = month_bounds(month, month)
        conn.execute(delete(MONTHS).where(MONTHS.c.month == first))
        conn.execute(insert(MONTHS).from_select(list(COLUMNS), month_sums(conn.dialect.name, base_currency(),
                                                                          None, first, last)))


def as_date(day):
    """A date of a rate (SQLite hands some back as text)."""
    return day if isinstance(day, date) else date.fromisoformat(str(day)[:10])


def rebuild(conn):
    """Make the whole table again from fact_pick (in the configured base); no month left marked."""
    lock_rates(conn)
    conn.execute(delete(STALE))
    conn.execute(delete(MONTHS))
    conn.execute(insert(MONTHS).from_select(list(COLUMNS), month_sums(conn.dialect.name, base_currency())))


def forget(conn, first_day, last_day):
    """The months of days whose picked rows left fact_pick (an archived month). The rates lock
    exclusive first: a rate writer rewriting these months from fact_pick's rows (refresh_rates,
    all stores) commits before the rows are deleted, or waits and then finds no rows; without it
    the rows it inserted were not seen by this DELETE and stayed. (Fact writers cannot interleave:
    detach_month's DETACH waits for their lock on metric_fact and holds it until it commits.)"""
    lock_rates(conn)
    conn.execute(delete(MONTHS).where(MONTHS.c.month.between(first_day.replace(day=1), last_day)))


def lock_rates(conn, shared=False):
    """PostgreSQL: the transaction-scoped lock between fact writers (shared) and rate writers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(:key)"), {"key": RATES})


def readable(conn, base, first, last):
    """PostgreSQL: (whether every row is written in `base`, the marked months between first and
    last), one statement: the reader's check before it takes whole months from here."""
    other = select(literal(1)).where(MONTHS.c.base != base).exists()
    marked = select(func.array_agg(STALE.c.month)).where(STALE.c.month.between(first, last)).scalar_subquery()
    other, marked = conn.execute(select(other, marked)).one()
    return not other, set(marked or ())


# ---- rates written through the ORM session -------------------------------------------------

@event.listens_for(Session, "before_flush")
def lock_before_rates(session, _context, _instances):
    """FxRate objects about to be written: take the rate writers' lock before their rows."""
    if any(isinstance(obj, FxRate) for obj in (*session.new, *session.dirty, *session.deleted)):
        lock_rates(session.connection())


@event.listens_for(Session, "after_flush")
def refresh_flushed_rates(session, _context):
    """FxRate objects added, changed or deleted in a flush: rewrite their months (the trigger
    marked them; old dates of a moved rate are marked too and rewritten here)."""
    days = [obj.date for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, FxRate)]
    if days:
        refresh_rates(session.connection(), days)
