"""The data token counts only statements that changed a row; a TRUNCATE of fx_rate marks its months (issue 10)

PostgreSQL: the tracked tables' statement triggers of 0034/0036 noted every INSERT, UPDATE and
DELETE, even one that changed no row (a lost compare-and-set, a job that found nothing): each
made the next dashboard request build its page again. They are made again with transition
tables (kpiapp/dbtriggers.py `track_data_version`): one trigger per event, which notes the
transaction only when its transition table holds a row; TRUNCATE still always counts; "user"'s
UPDATE OF its tracked columns is a row trigger (transition tables allow no column list).
A TRUNCATE of fx_rate, which fired none of fact_month's rate marks, marks the months of the
rates it removes (`create_rate_truncate_mark`). SQLite: nothing to do (row triggers fire per
changed row; no TRUNCATE).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import (UNTRACKED_COLUMNS, create_data_changed, create_rate_truncate_mark,
                               drop_data_changed, drop_rate_truncate_mark, track_data_version, tracked_columns,
                               untrack_data_version)

# revision identifiers, used by Alembic.
revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

# the tables 0034 and 0036 tracked: each has a trigger named <table>_data_version
TRACKED = sa.text("SELECT c.relname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
                  "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = current_schema() AND NOT t.tgisinternal "
                  "AND t.tgname IN (c.relname || '_data_version', c.relname || '_data_version_insert') "
                  "ORDER BY c.relname")


def tracked():
    return list(op.get_bind().execute(TRACKED).scalars())


def columns(table):
    if table not in UNTRACKED_COLUMNS:
        return None
    return tracked_columns(table, [c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)])


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    create_data_changed()
    for table in tracked():
        untrack_data_version(table)
        track_data_version(table, columns(table), compare=False)  # 0041 compares
    create_rate_truncate_mark()


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    drop_rate_truncate_mark()
    for table in tracked():
        untrack_data_version(table)
        track_data_version(table, columns(table), every_statement=True)
    drop_data_changed()
