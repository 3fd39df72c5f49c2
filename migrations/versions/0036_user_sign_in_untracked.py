"""A person's sign-in bookkeeping no longer changes the data token (docs/dashboards.md, "The memo")

Migration 0034 tracked every column of "user": each login (last_login_at, failed_logins,
locked_until) changed the token, so the next request of every memoized dashboard built its page
again. The table's triggers are made again with `UPDATE OF` every column but
`dbtriggers.UNTRACKED_COLUMNS["user"]`; INSERT, DELETE and TRUNCATE still change the token.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import track_data_version, tracked_columns, untrack_data_version

# revision identifiers, used by Alembic.
revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def columns():
    return tracked_columns('user', [c['name'] for c in sa.inspect(op.get_bind()).get_columns('user')])


def upgrade():
    untrack_data_version('user')
    track_data_version('user', columns(), every_statement=True)


def downgrade():
    untrack_data_version('user')
    track_data_version('user', every_statement=True)
