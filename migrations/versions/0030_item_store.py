"""scorecard_item_store: the stores each item's scope names, kept by triggers (issue 10)

The company dashboard's attainment and at-risk statements per store expanded every latest
metric item's JSON `scope` into its stores on each request (40,000 scopes at 5,000 people;
PostgreSQL planned 100 rows a scope, 2.7M instead of 77,000, and spilled to disk). The
expansion now lives in a narrow table, one row per (item, store named by its scope), that
triggers (kpiapp/dbtriggers.py, create_item_store_triggers) keep after every INSERT and
DELETE of an item and every UPDATE of its scope, on PostgreSQL and SQLite, so bulk updates,
raw SQL and a card's cascaded delete keep it too. Filled here from the items already stored,
with the same SQL the triggers run.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_item_store_triggers, drop_item_store_triggers, fill_item_stores


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scorecard_item_store',
        sa.Column('item_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('store_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('item_id', 'store_id', name=op.f('pk_scorecard_item_store')),
    )
    fill_item_stores()
    create_item_store_triggers()


def downgrade():
    drop_item_store_triggers()
    op.drop_table('scorecard_item_store')
