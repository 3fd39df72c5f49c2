"""TRUNCATE guards on the scorecard tables (PostgreSQL)

Row-level lock triggers (0002) do not fire on TRUNCATE; statement-level BEFORE
TRUNCATE triggers on scorecard, scorecard_item, scorecard_item_version and
change_request refuse it while the table holds a row of a locked scorecard.
SQLite has no TRUNCATE: nothing to do there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

"""
from kpiapp.dbtriggers import create_truncate_guards, drop_truncate_guards

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    create_truncate_guards()


def downgrade():
    drop_truncate_guards()
