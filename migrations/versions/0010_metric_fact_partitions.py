"""metric_fact range-partitioned by business month (PostgreSQL); SQLite keeps one table

PostgreSQL: the plain table is renamed aside, a PARTITION BY RANGE (business_date) table takes
its name, constraint and index names and its id sequence, one partition per month the data
holds (plus DEFAULT) is made in the schema fact_partitions, the rows are copied and the old
table dropped. The primary key becomes (id, business_date): a partitioned table's unique
constraints must hold the partition key (the natural key already does). Downgrade copies the
attached partitions back into a plain table (months detached into fact_archive are not
brought back). kpiapp/metrics/partitions.py names and makes the partitions.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"""
from alembic import op
from sqlalchemy import text

from kpiapp.metrics import partitions

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = ("id", "store_id", "family", "business_date", "period_end", "sku", "ref", "measure", "value",
           "currency", "import_id", "source_line")
INDEXES = ("pk_metric_fact", "uq_metric_fact_natural_key", "ix_metric_fact_store_measure_date",
           "ix_metric_fact_import_id")


def table_sql(primary_key, partitioned):
    return f"""
        CREATE TABLE metric_fact (
          id bigint NOT NULL DEFAULT nextval('metric_fact_id_seq'),
          store_id integer NOT NULL, family varchar(48) NOT NULL, business_date date NOT NULL,
          period_end date NOT NULL, sku varchar(64) NOT NULL, ref varchar(128) NOT NULL,
          measure varchar(48) NOT NULL, value numeric(20, 6) NOT NULL, currency varchar(3),
          import_id integer NOT NULL, source_line integer NOT NULL,
          CONSTRAINT pk_metric_fact PRIMARY KEY ({primary_key}),
          CONSTRAINT uq_metric_fact_natural_key
            UNIQUE (store_id, family, business_date, period_end, sku, ref, measure),
          CONSTRAINT fk_metric_fact_store_id_store FOREIGN KEY (store_id) REFERENCES store (id),
          CONSTRAINT fk_metric_fact_import_id_import_record FOREIGN KEY (import_id) REFERENCES import_record (id)
        ) {"PARTITION BY RANGE (business_date)" if partitioned else ""}
    """


def set_aside(old_name):
    """Rename metric_fact and its index names out of the way; its sequence outlives it."""
    op.execute(f"ALTER TABLE metric_fact RENAME TO {old_name}")
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RENAME TO {index}_old")
    op.execute("ALTER SEQUENCE metric_fact_id_seq OWNED BY NONE")


def finish(old_name):
    op.execute("CREATE INDEX ix_metric_fact_store_measure_date ON metric_fact (store_id, measure, business_date)")
    op.execute("CREATE INDEX ix_metric_fact_import_id ON metric_fact (import_id)")
    columns = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO metric_fact ({columns}) SELECT {columns} FROM {old_name}")
    op.execute(f"DROP TABLE {old_name}")
    op.execute("ALTER SEQUENCE metric_fact_id_seq OWNED BY metric_fact.id")
    op.execute("ANALYZE metric_fact")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    set_aside("metric_fact_plain")
    op.execute(table_sql("id, business_date", partitioned=True))
    conn = op.get_bind()
    partitions.create_default(conn)
    months = conn.execute(text("SELECT DISTINCT date_trunc('month', business_date)::date "
                               "FROM metric_fact_plain")).scalars()
    for month in months:
        partitions.create_month(conn, month)
    finish("metric_fact_plain")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    set_aside("metric_fact_parted")
    op.execute(table_sql("id", partitioned=False))
    finish("metric_fact_parted")
    op.execute(f"DROP SCHEMA IF EXISTS {partitions.SCHEMA}")
