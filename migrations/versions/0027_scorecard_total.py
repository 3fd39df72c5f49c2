"""scorecard_total: each scorecard's item sums, kept by triggers on scorecard_item (issue 10)

The calibration page and the company dashboard grade every latest card of a cycle in SQL
(appraisal/queries.py, card_grade); they summed every item of the cycle on each request
(40,000 rows at 5,000 people, ~1.4 kB each). The sums now live in one narrow row per card:
sum of final_points x weight, items scored, items, sum of weights. Triggers
(kpiapp/dbtriggers.py, create_total_triggers) sum a card again from its items after every
INSERT, DELETE and points/weight/card UPDATE of an item, on PostgreSQL and SQLite, so bulk
updates and raw SQL keep them too. Filled here from the items already stored.
(Numbered 0027 after 0025: 0026 is being written alongside; the chain is fixed at merge.)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_total_triggers, drop_total_triggers, fill_totals


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scorecard_total',
        sa.Column('scorecard_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('weighted', sa.Numeric(precision=15, scale=4), nullable=True),
        sa.Column('scored', sa.Integer(), nullable=False),
        sa.Column('item_count', sa.Integer(), nullable=False),
        sa.Column('weights', sa.Numeric(precision=10, scale=2), nullable=True),
        sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'],
                                name=op.f('fk_scorecard_total_scorecard_id_scorecard'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('scorecard_id', name=op.f('pk_scorecard_total')),
    )
    fill_totals()
    create_total_triggers()


def downgrade():
    drop_total_triggers()
    op.drop_table('scorecard_total')
