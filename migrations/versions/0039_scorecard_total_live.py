"""scorecard_total keeps the live sums too: coalesce(final, computed) points (issue 10)

The company dashboard's attainment by department averaged every latest item of the cycle
(40,000 rows at 5,000 people, ~50 ms of its first build after a write). scorecard_total (0027)
kept final_points' sums only; it now keeps Σ points × weight, the items with points and Σ their
weights with points = coalesce(final_points, computed_points), and its triggers sum a card
again when an item's computed_points change too (kpiapp/dbtriggers.py, create_total_triggers).
Filled here again from the items.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_total_triggers, drop_total_triggers, fill_totals


# revision identifiers, used by Alembic.
revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    drop_total_triggers()
    # plain ALTER TABLE on both databases (SQLite too: no batch copy, the table keeps its triggers)
    op.add_column('scorecard_total', sa.Column('live_weighted', sa.Numeric(precision=15, scale=4), nullable=True))
    op.add_column('scorecard_total', sa.Column('live_scored', sa.Integer(), server_default='0', nullable=False))
    op.add_column('scorecard_total', sa.Column('live_weights', sa.Numeric(precision=10, scale=2), nullable=True))
    op.execute("DELETE FROM scorecard_total")
    fill_totals(live=True)
    create_total_triggers(live=True)


def downgrade():
    drop_total_triggers()
    for column in ('live_weights', 'live_scored', 'live_weighted'):
        op.execute(f"ALTER TABLE scorecard_total DROP COLUMN {column}")  # SQLite 3.35+ too
    create_total_triggers()
