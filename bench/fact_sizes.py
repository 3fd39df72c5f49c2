"""Bytes per metric_fact row on PostgreSQL, measured, then multiplied out to an agency's size.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/fact_sizes.py [--skus 5000] [--days 31] [--stores 100 --years 3]

Builds a scratch database (created and dropped here) at the head migration, writes
--skus x --days x 5 Business Report measures (sessions, page_views, units, ordered_sales,
order_items: what one SKU-day of a Business Report gives) for one store into one month
partition with generate_series, VACUUM ANALYZEs, and reads pg_relation_size and
pg_indexes_size over every partition. Then: rows, heap, index and total bytes for
--stores x --skus x --years of daily facts, and for one month partition.
"""
import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import TestConfig, database_url  # noqa: E402

MEASURES = ("sessions", "page_views", "units", "ordered_sales", "order_items")
FILL = f"""
    INSERT INTO metric_fact (store_id, family, business_date, period_end, sku, ref, measure, value, currency,
                             import_id, source_line)
    SELECT :store, 'amazon_sales_traffic', d, d, 'B0' || lpad(s::text, 8, '0'), '', m,
           round((random() * 500)::numeric, 2), CASE WHEN m = 'ordered_sales' THEN 'USD' END, :import, s + 1
    FROM generate_series(date '2025-01-01', date '2025-01-01' + :days - 1, interval '1 day') AS d,
         generate_series(1, :skus) AS s, unnest(ARRAY{list(MEASURES)}) AS m
"""
SIZES = """
    SELECT count(*), sum(pg_relation_size(relid)), sum(pg_indexes_size(relid))
    FROM pg_partition_tree('metric_fact') WHERE isleaf
"""


def scratch_database():
    name = f"kpi_sizes_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(database_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name, make_url(database_url()).set(database=name).render_as_string(hide_password=False)


def measure(uri, skus, days):
    """(rows, heap bytes, index bytes) of the sample."""
    import tempfile

    from flask_migrate import upgrade

    from kpiapp.app import create_app
    from kpiapp.extensions import db
    from kpiapp.models import ImportRecord, Store

    config = type("SizesConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": uri,
                                                 "INSTANCE_DIR": Path(tempfile.mkdtemp()), "SECRET_KEY": "x"})
    with create_app(config).app_context():
        upgrade()
        store = Store(code="SIZE", name="Size", platform="amazon", marketplace="US", currency="USD",
                      timezone="America/Los_Angeles")
        db.session.add(store)
        db.session.flush()
        record = ImportRecord(filename="x.csv", sha256="0" * 64, size=0, dedupe_key="x", store_id=store.id)
        db.session.add(record)
        db.session.commit()
        db.session.execute(text("CREATE TABLE fact_partitions.metric_fact_2025_01 PARTITION OF metric_fact "
                                "FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')"))
        db.session.execute(text(FILL), {"store": store.id, "import": record.id, "days": days, "skus": skus})
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE metric_fact"))
            rows = conn.execute(text("SELECT count(*) FROM metric_fact")).scalar()
            _parts, heap, index = conn.execute(text(SIZES)).one()
        db.engine.dispose()
    return rows, int(heap), int(index)


def gib(n):
    return f"{n / 2**30:,.1f} GiB"


def report(rows, heap, index, args):
    per_heap, per_index = heap / rows, index / rows
    print(f"sample: {rows:,} rows; heap {heap:,} B ({per_heap:.1f} B/row), "
          f"indexes {index:,} B ({per_index:.1f} B/row), total {(heap + index) / rows:.1f} B/row")
    days = 365 * args.years
    total_rows = args.stores * args.skus * days * len(MEASURES)
    month_rows = args.stores * args.skus * 31 * len(MEASURES)
    for label, n in ((f"{args.stores} stores x {args.skus:,} SKUs x {args.years} years", total_rows),
                     ("one month partition (31 days, every store)", month_rows)):
        print(f"{label}: {n:,} rows; heap {gib(n * per_heap)}, indexes {gib(n * per_index)}, "
              f"total {gib(n * (per_heap + per_index))}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the script creates and drops its own database).")
    admin, name, uri = scratch_database()
    try:
        started = time.perf_counter()
        rows, heap, index = measure(uri, args.skus, min(args.days, 31))
        print(f"wrote and measured the sample in {time.perf_counter() - started:.1f} s")
        report(rows, heap, index, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
