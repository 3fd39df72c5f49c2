"""The import's own statements made cheaper: the upload stored with lz4, an index of range facts (issue 10)

1. import_file.data compressed with lz4 instead of pglz (PostgreSQL). Every import stores the
   upload's bytes before it parses them (`imports.services.start_import`) and reads them back in
   the job (`run_import`). A CSV upload is text, so PostgreSQL compresses it when it goes to
   TOAST, with pglz by default (`default_toast_compression`): for the bench's 15 files (5.7 MB)
   0.09-0.10 s of server CPU and 0.3-0.45 s of wall time to store them, 0.02-0.03 s of CPU to
   read them back. lz4 stores the same bytes in 0.01-0.02 s of CPU (0.08-0.14 s wall), reads
   them in 0.01-0.02 s, and keeps 1.8 MB where pglz kept 1.5 MB (docs/scaling.md, "One import
   end to end after stop 29"). Only new values are written with lz4: an old upload keeps pglz,
   which PostgreSQL still reads (each value names its method). A server built without lz4
   refuses the method (feature_not_supported): the column then keeps pglz and the migration
   passes. SQLite stores the bytes as they are.

2. ix_metric_fact_ranges: (store_id, family, business_date) of the range facts only
   (business_date <> period_end; both databases, partial). The overlap check of an import of
   daily facts (`imports.services.find_overlap`) looks only for range facts of its stores and
   family that reach its days, but without this index read every fact of the store and family
   up to its last day in the months it touches: a cost growing with each day imported into a
   month. Daily facts, almost all of metric_fact, do not enter the index (their insert only
   evaluates the predicate). On PostgreSQL the index on the partitioned parent is made on every
   partition (and on each one made or attached later); building it reads metric_fact once.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

RANGE_FACT = 'business_date <> period_end'


def postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def set_compression(method):
    op.execute(f"""
        DO $$ BEGIN
            ALTER TABLE import_file ALTER COLUMN data SET COMPRESSION {method};
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'import_file.data keeps its compression: % (%)', SQLERRM, SQLSTATE;
        END $$""")


def upgrade():
    if postgresql():
        set_compression('lz4')
    op.create_index('ix_metric_fact_ranges', 'metric_fact', ['store_id', 'family', 'business_date'],
                    postgresql_where=sa.text(RANGE_FACT), sqlite_where=sa.text(RANGE_FACT))


def downgrade():
    op.drop_index('ix_metric_fact_ranges', table_name='metric_fact')
    if postgresql():
        set_compression('default')
