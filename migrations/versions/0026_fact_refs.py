"""metric_fact's store and import keys checked once per statement (PostgreSQL; issue 10)

PostgreSQL checks a foreign key row by row; on a large import that was most of the gap to
plain COPY (docs/scaling.md). On PostgreSQL the two foreign keys of metric_fact
(fk_metric_fact_store_id_store, fk_metric_fact_import_id_import_record) are dropped and
replaced by statement-level triggers with a transition table on metric_fact and on each of
its partitions, plus delete/update/truncate guards on store and import_record, with the same
guarantee and error class (23503): see kpiapp/metrics/fact_refs.py. Downgrade drops the
triggers and adds the foreign keys back (validating every fact). SQLite keeps its keys.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04

"""
from alembic import op

from kpiapp.metrics import fact_refs, partitions

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    fact_refs.install(conn)
    for table in partitions.partition_tables(conn):
        fact_refs.guard_table(conn, table)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    fact_refs.uninstall(conn)
