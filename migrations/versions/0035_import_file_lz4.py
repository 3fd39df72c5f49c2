"""import_file.data compressed with lz4 instead of pglz (PostgreSQL; issue 10: the import's time)

Every import stores the upload's bytes before it parses them (`imports.services.start_import`)
and reads them back in the job (`run_import`). A CSV upload is text, so PostgreSQL compresses
it when it goes to TOAST, with pglz by default (`default_toast_compression`): for the bench's
15 files (5.7 MB) 0.09-0.10 s of server CPU and 0.3-0.45 s of wall time to store them, 0.02-0.03 s
of CPU to read them back. lz4 stores the same bytes in 0.01-0.02 s of CPU (0.08-0.14 s wall),
reads them in 0.01-0.02 s, and keeps 1.8 MB where pglz kept 1.5 MB (docs/scaling.md, "One import
end to end after stop 29"). Only new values are written with lz4: an old upload keeps pglz,
which PostgreSQL still reads (each value names its method).

A server built without lz4 refuses the method (feature_not_supported): the column then keeps
pglz and the migration passes. SQLite stores the bytes as they are: nothing to do.

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-05

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0032'
branch_labels = None
depends_on = None


def set_compression(method):
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"""
        DO $$ BEGIN
            ALTER TABLE import_file ALTER COLUMN data SET COMPRESSION {method};
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'import_file.data keeps its compression: % (%)', SQLERRM, SQLSTATE;
        END $$""")


def upgrade():
    set_compression('lz4')


def downgrade():
    set_compression('default')
