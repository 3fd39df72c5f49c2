"""An UPDATE that sets the values a row had leaves the data token (issue 10)

0037's UPDATE triggers counted any row of the statement's transition table, so `SET x = x` (raw
SQL, a bulk fix, a job that writes what it read) made the next dashboard request build its page
again. Every tracked table but dbtriggers.EVERY_STATEMENT has its UPDATE trigger made again
(kpiapp/dbtriggers.py `track_data_version`, `compare`): PostgreSQL joins the statement's old and
new rows on the primary key and counts only a row whose image changed ("user": its row trigger on
the tracked columns gets a WHEN comparing them); SQLite's row trigger gets a WHEN comparing the
(tracked) columns. INSERT, DELETE and TRUNCATE are as before.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import (EVERY_STATEMENT, UNTRACKED_COLUMNS, UPDATE_FUNCTION, track_data_version,
                               tracked_columns, untrack_data_version)

# revision identifiers, used by Alembic.
revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

# the tables with a changed-rows UPDATE trigger (0037's on PostgreSQL, 0034/0036's row trigger on SQLite)
TRACKED = {
    'postgresql': sa.text("SELECT c.relname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
                          "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = current_schema() AND NOT t.tgisinternal "
                          "AND t.tgname = c.relname || '_data_version_update' ORDER BY c.relname"),
    'sqlite': sa.text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                      "AND name = tbl_name || '_data_version_update' ORDER BY tbl_name"),
}


def tracked():
    bind = op.get_bind()
    return [t for t in bind.execute(TRACKED[bind.dialect.name]).scalars() if t not in EVERY_STATEMENT]


def columns(table):
    if table not in UNTRACKED_COLUMNS:
        return None
    return tracked_columns(table, [c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)])


def remake(compare):
    for table in tracked():
        untrack_data_version(table)
        track_data_version(table, columns(table), compare=compare)


def upgrade():
    remake(compare=True)


def downgrade():
    remake(compare=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP FUNCTION IF EXISTS {UPDATE_FUNCTION}()")
