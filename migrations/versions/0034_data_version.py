"""data_version: a token that changes with every committed write a page may read (issue 10)

The dashboards keep their built panels in a bounded in-process memo keyed by this token
(kpiapp/dashboards/memo.py, docs/dashboards.md "The memo"): an entry is never invalidated,
only no longer asked for once the token has changed. data_version holds one row; data_touch
(PostgreSQL) notes a writing transaction until it commits. Triggers (kpiapp/dbtriggers.py,
`create_data_version`, `track_data_version`) on every table but dbtriggers.UNTRACKED change
the token: on PostgreSQL once per transaction at COMMIT (statement-level triggers, a
deferred constraint trigger), on SQLite per written row.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import (UNTRACKED, create_data_version, drop_data_version, track_data_version,
                               untrack_data_version)


# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def tracked():
    """Every table of the schema but the untracked ones (partitions live in other schemas:
    writes reach them through metric_fact, whose triggers fire)."""
    return sorted(set(sa.inspect(op.get_bind()).get_table_names()) - UNTRACKED)


def upgrade():
    op.create_table('data_version',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('token', sa.String(length=36), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')))
    op.create_table('data_touch',
                    sa.Column('txid', sa.BigInteger(), autoincrement=False, nullable=False),
                    sa.PrimaryKeyConstraint('txid', name=op.f('pk_data_touch')))
    create_data_version()
    for table in tracked():
        track_data_version(table, every_statement=True)


def downgrade():
    for table in tracked():
        untrack_data_version(table)
    drop_data_version()
    op.drop_table('data_touch')
    op.drop_table('data_version')
