"""Monthly partitions of metric_fact on PostgreSQL (docs/scaling.md); SQLite keeps one table.

On PostgreSQL `metric_fact` is PARTITION BY RANGE (business_date): one partition per
calendar month, named metric_fact_YYYY_MM, in the schema `fact_partitions` (so the public
schema holds exactly what the models describe), plus a DEFAULT partition there as a safety
net: a fact whose month has no partition yet still lands somewhere instead of failing.

Month partitions are made ahead by the scheduled `kpi partitions --ahead N` (or the
"partitions" job kind) and on demand by an import before it writes
(`ensure_for_facts`). Both create a missing month on their own short connection, so the
import's transaction never holds a lock on the parent table while it runs; if that
connection cannot get its locks within LOCK_TIMEOUT (attaching locks the DEFAULT partition,
so it waits for transactions that read or wrote it) the rows go to the DEFAULT partition,
which the scheduled run empties into month partitions later. metric_fact has no foreign keys
on PostgreSQL (migration 0026: statement-level checks, metrics/fact_refs.py), so attaching
no longer waits for transactions writing import_record or store; each partition made gets
the checks' triggers (`fact_refs.guard_table`) for statements that name it directly.

A month is made as a plain table, filled with whatever the DEFAULT partition holds for it,
then ATTACHed: ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on metric_fact, so readers
and other imports go on. Old months are DETACHed into the schema `fact_archive`, from where
they are dumped (pg_dump -t) and dropped.
"""
import logging
import re
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection

from kpiapp import audit
from kpiapp.extensions import set_local, settings_for_one_statement
from kpiapp.metrics import fact_day, fact_refs

SCHEMA = "fact_partitions"
ARCHIVE = "fact_archive"
PARENT = "metric_fact"
# what queries filter, join and group metric_fact by; not id, value or source_line
ANALYZED = ("store_id", "family", "business_date", "period_end", "sku", "ref", "measure", "currency",
            "import_id")
DEFAULT = "metric_fact_default"
LOCK_TIMEOUT = "5s"
log = logging.getLogger(__name__)
NAME = re.compile(r"^metric_fact_(\d{4})_(\d{2})$")


# ---- months and names (pure) ---------------------------------------------------------------

def month_of(day):
    return date(day.year, day.month, 1)


def next_month(month):
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first_day, last_day):
    """Every month start from first_day's month to last_day's month, both included."""
    month, last = month_of(first_day), month_of(last_day)
    while month <= last:
        yield month
        month = next_month(month)


def partition_name(month):
    return f"metric_fact_{month:%Y_%m}"


def month_of_name(name):
    found = NAME.match(name)
    return date(int(found[1]), int(found[2]), 1) if found else None


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


# ---- what exists --------------------------------------------------------------------------

def is_partitioned(conn):
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": PARENT})
    return kind.scalar() == "p"


def attached_months(conn):
    """The month starts that have their own partition (reads the catalogue, locks nothing)."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t)"), {"t": PARENT}).scalars()
    return {month for month in map(month_of_name, names) if month}


def partition_tables(conn):
    """Every attached partition's qualified name, DEFAULT included."""
    return list(conn.execute(text(
        "SELECT i.inhrelid::regclass::text FROM pg_inherits i WHERE i.inhparent = to_regclass(:t) "
        "ORDER BY 1"), {"t": PARENT}).scalars())


def default_months(conn):
    """Months that have rows sitting in the DEFAULT partition."""
    return list(conn.execute(text(
        f"SELECT DISTINCT date_trunc('month', business_date)::date FROM {SCHEMA}.{DEFAULT} ORDER BY 1")).scalars())


# ---- making months ------------------------------------------------------------------------

def create_default(conn):
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    conn.execute(text(f"CREATE TABLE {SCHEMA}.{DEFAULT} PARTITION OF {PARENT} DEFAULT"))
    fact_refs.guard_table(conn, f"{SCHEMA}.{DEFAULT}")


def create_month(conn, month):
    """An empty month partition, made in place (the migration: it holds every lock anyway)."""
    conn.execute(text(f"CREATE TABLE {SCHEMA}.{partition_name(month)} PARTITION OF {PARENT} "
                      f"FOR VALUES FROM ('{month}') TO ('{next_month(month)}')"))
    fact_refs.guard_table(conn, f"{SCHEMA}.{partition_name(month)}")


def attach_month(conn, month):
    """Make `month`'s partition from the rows the DEFAULT partition holds for it, and attach it."""
    table, low, high = f"{SCHEMA}.{partition_name(month)}", month, next_month(month)
    bounds = {"low": low, "high": high}
    conn.execute(text(f"LOCK TABLE {SCHEMA}.{DEFAULT} IN ACCESS EXCLUSIVE MODE"))
    conn.execute(text(f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {partition_name(month)}_range "
                      f"CHECK (business_date >= '{low}' AND business_date < '{high}')"))
    conn.execute(text(f"WITH moved AS (DELETE FROM {SCHEMA}.{DEFAULT} WHERE business_date >= :low "
                      f"AND business_date < :high RETURNING *) INSERT INTO {table} SELECT * FROM moved"), bounds)
    conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {table} FOR VALUES FROM ('{low}') TO ('{high}')"))
    conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {partition_name(month)}_range"))
    fact_refs.guard_table(conn, table)


def create_months(engine, months):
    """Attach each missing month, each in its own short transaction; returns those made.

    A month another process made meanwhile is skipped; a lock not granted within
    LOCK_TIMEOUT leaves the month to the DEFAULT partition (and to the next scheduled run).
    """
    made = []
    for month in months:
        with engine.connect() as conn:
            try:
                with conn.begin():
                    set_local(conn, lock_timeout=LOCK_TIMEOUT)
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('metric_fact partitions'))"))
                    if month not in attached_months(conn):
                        attach_month(conn, month)
                        made.append(month)
            except Exception as error:
                if not is_lock_timeout(error):
                    raise
                log.warning("metric_fact partition %s not made (lock timeout): DEFAULT takes its rows", month)
    return made


def is_lock_timeout(error):
    """Another transaction held a lock the attach needed (an import or a query on the DEFAULT
    partition): the rows wait in DEFAULT for the scheduled run."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "55P03"


def ensure_month_partitions(session, first_day, last_day):
    """Before writing facts dated first_day..last_day: every month has its partition.

    No-op on SQLite, on an unpartitioned table and when the months exist. Otherwise the
    session's transaction is committed first: attaching a month locks the DEFAULT partition,
    which waits for any transaction that has read or written it (before migration 0026 it
    also added the partition's foreign keys, which waited for the import's own transaction:
    it has written import_record). Returns the months made.
    """
    conn = session.connection()
    if not is_partitioned(conn):
        return []
    missing = [m for m in months_between(first_day, last_day) if m not in attached_months(conn)]
    if not missing or joined_to_outer_transaction(session):
        return []
    session.commit()
    return create_months(engine_of(session), missing)


def joined_to_outer_transaction(session):
    """True when the session runs inside a transaction its caller owns (bound to a Connection,
    as tests in rollback mode are): its commit cannot release the locks a separate connection
    would wait for, so the rows go to the DEFAULT partition instead."""
    bind = session.get_bind()
    return isinstance(bind, Connection) and bind.in_transaction()


def ensure_for_facts(session, rows):
    """ensure_month_partitions for the business dates of these fact rows."""
    if rows:
        ensure_month_partitions(session, *_day_range(rows))


def _day_range(rows):
    """(first, last) business date: the import's FactRows know theirs; else from the row dicts."""
    if hasattr(rows, "day_range"):
        return rows.day_range()
    days = [row["business_date"] for row in rows]
    return min(days), max(days)


def analyze_for_facts(conn, rows, at_least, growth=0.0):
    """After writing `rows` (at least `at_least` of them): ANALYZE the month partitions they
    went to, inside the import's transaction. Autovacuum analyses a table only once a tenth
    of it has changed, so a fresh month, or a month reloaded, would be planned from missing
    or stale statistics until then. Which columns (`to_analyze`): every one of ANALYZED for a
    month never analysed or grown by `growth` since its last ANALYZE; only DATES when the rows
    reach past the last day its statistics hold; STORES too when a store of the rows is one the
    statistics do not know (`unknown_stores`); none otherwise. Returns [(partition, columns
    analysed)] (none on SQLite or an unpartitioned table)."""
    if len(rows) < max(at_least, 1) or not is_partitioned(conn):
        return []
    months = [m for m in months_between(*_day_range(rows)) if m in attached_months(conn)]
    names = [partition_name(m) for m in months]
    sizes = month_sizes(conn, names)
    unknown = unknown_stores(conn, names, getattr(rows, "stores", ()))
    last_day = _day_range(rows)[1]
    done = []
    for name in names:
        columns = to_analyze(*sizes[name], min(last_day, month_last_day(name)), growth, name in unknown)
        if columns:
            with settings_for_one_statement(conn, **sample_for(columns, sizes[name][0])):
                conn.execute(text(f"ANALYZE {SCHEMA}.{name} ({', '.join(columns)})"))
            done.append((name, columns))
    return done


# the columns whose bounds a day past the statistics moves (docs/scaling.md, "When an import
# re-analyses its month": a day the statistics never saw is planned as one row)
DATES = ("business_date", "period_end")
# ... from a tenth of the default sample (3,000 rows): a month holds at most 31 days, so ten
# common values and ten histogram bounds still name the last day; the sample was most of its cost
DATES_SAMPLE = {"default_statistics_target": 10}
# ... and a month's first ANALYZE (never analysed: a month this import made or first filled) from the
# same tenth: 5-6 ms instead of 38-63 ms for a month of 30,000 facts (docs/scaling.md, stop 35), whose
# sample held the whole month. It stands until the month has grown by ANALYZE_AFTER_GROWTH (then
# analysed at the default sample) or autovacuum analyses it, after its commit counted the rows
FIRST_SAMPLE = DATES_SAMPLE
# the column a store new to a month's statistics moves (docs/scaling.md, h-import6): analysed at the
# default sample, as a month of many stores needs for its common values
STORES = ("store_id",)


def to_analyze(counted, counted_pages, pages, last_known, last_day, growth, new_store=False):
    """The columns to analyse: ANALYZED when the month was never analysed (reltuples -1) or its
    heap grew by `growth` since (`grown`): the planner scales the rows its statistics counted
    by the pages the month has now, so counts stay right as it grows, and what goes stale is
    the share of the rows the statistics describe. Else DATES when the rows' last day is after
    the last business_date the statistics hold: the planner takes a day missing from them for
    about one row, and picks nested loops that read the day's facts once a fact; and STORES
    when new_store (a store the statistics list no rows for: also taken for about one row).
    Else ()."""
    if counted < 0 or grown(counted_pages, pages, growth):
        return ANALYZED
    dates = DATES if last_known is None or last_day > last_known else ()
    return dates + STORES if new_store else dates


def sample_for(columns, counted):
    """The settings an ANALYZE of `columns` runs under: a tenth of the default sample for the
    dates alone or for a month never analysed (`counted` -1), else the default."""
    if columns == DATES:
        return DATES_SAMPLE
    return FIRST_SAMPLE if counted < 0 else {}


def unknown_stores(conn, names, stores):
    """The partitions whose store_id statistics list every store they saw (common values, no
    histogram) and not one of `stores`: there the planner takes such a store for about one row.
    A month of more stores than its common values hold has a histogram: a store outside them is
    estimated from the other rows, not as one row. A month without statistics is left out
    (to_analyze analyses it whole)."""
    if not stores or not names:
        return set()
    found = conn.execute(text(
        "SELECT tablename, most_common_vals::text::int[] FROM pg_stats WHERE schemaname = :schema "
        "AND tablename = ANY(:names) AND attname = 'store_id' AND histogram_bounds IS NULL"),
        {"schema": SCHEMA, "names": names})
    return {name for name, known in found if not set(stores) <= set(known or ())}


def grown(counted_pages, pages, growth):
    """More pages than the last ANALYZE or VACUUM counted, and at least (1 + growth) times as
    many. Pages, not n_mod_since_analyze: the file's size counts this transaction's own rows at
    once, while the statistics collector hears of them only after the commit."""
    return pages > counted_pages and pages >= counted_pages * (1 + growth)


def month_last_day(name):
    return next_month(month_of_name(name)) - timedelta(days=1)


def month_sizes(conn, names):
    """{partition: (rows its last ANALYZE or VACUUM counted, -1 if never; the pages it counted;
    the pages its heap has now; the last business_date its statistics hold, None without)}."""
    rows = conn.execute(text(
        "SELECT c.relname, c.reltuples, c.relpages, "
        "pg_relation_size(c.oid) / current_setting('block_size')::int, "
        "(SELECT max(day) FROM pg_stats s, unnest(coalesce(s.most_common_vals::text::date[], '{}') "
        "|| coalesce(s.histogram_bounds::text::date[], '{}')) day "
        "WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'business_date') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relname = ANY(:names)"), {"schema": SCHEMA, "names": names})
    return {name: tuple(sizes) for name, *sizes in rows}


# ---- the scheduled run and archiving ------------------------------------------------------

def make_ahead(session, ahead, today):
    """This month and the next `ahead` months, plus every month the DEFAULT partition holds:
    their partitions exist afterwards. Works on its own connections (the session's transaction
    holds nothing on metric_fact). Returns (months made, rows left in DEFAULT)."""
    engine = engine_of(session)
    with engine.connect() as conn:
        if not is_partitioned(conn):
            return [], 0
        wanted = set(months_between(month_of(today), add_months(month_of(today), ahead)))
        missing = sorted((wanted | set(default_months(conn))) - attached_months(conn))
    made = create_months(engine, missing)
    with engine.connect() as conn:
        left = conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.{DEFAULT}")).scalar()
    return made, left


def record_made(session, made, left):
    """Audit a scheduled run that made months or found rows it could not place (caller commits)."""
    if made or left:
        audit.record(session, "metric_fact.partitions", "metric_fact", after={
            "months_made": [f"{month:%Y-%m}" for month in made], "rows_in_default": left})


def engine_of(session):
    bind = session.get_bind()
    return getattr(bind, "engine", bind)


def detach_month(session, month):
    """Detach `month`'s partition into the archive schema, audited; returns the archived table's
    name, or None when the month has no partition.

    Its facts and their day sums (fact_day) leave every query (actuals of unlocked scorecards
    over that month change on the next recompute). Dump it with pg_dump -t, then drop it. Caller commits.
    """
    conn = session.connection()
    name = partition_name(month)
    if not is_partitioned(conn) or month not in attached_months(conn):
        return None
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE}"))
    conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {SCHEMA}.{name}"))
    conn.execute(text(f"ALTER TABLE {SCHEMA}.{name} SET SCHEMA {ARCHIVE}"))
    fact_day.forget_month(conn, month, add_months(month, 1) - timedelta(days=1))
    audit.record(session, "metric_fact.detached", "metric_fact", after={
        "month": f"{month:%Y-%m}", "table": f"{ARCHIVE}.{name}"})
    return f"{ARCHIVE}.{name}"
