"""fact_pick_day: fact_pick's rows summed across stores by (measure, day, currency) (issue 10)

See docs/dashboards.md, "The days kept" and kpiapp/metrics/fact_pick_day.py: the company
dashboard's trend lines read these sums instead of every store's fact_pick rows of the period.
Kept by deltas (rows appended and folded, never updated), so several rows may share a key: no
unique key, an id. Filled here with its own copy of the statement (fact_pick grouped by the key),
which tests/metrics/test_fact_pick_day.py compares with a rebuild.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import track_data_version, untrack_data_version


# revision identifiers, used by Alembic.
revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

FILL = """
INSERT INTO fact_pick_day (measure, business_date, currency, total, group_count)
SELECT measure, business_date, currency, SUM(total), SUM(group_count)
FROM fact_pick GROUP BY measure, business_date, currency
"""


def upgrade():
    op.create_table(
        'fact_pick_day',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('measure', sa.String(length=48), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('total', sa.Numeric(), nullable=False),
        sa.Column('group_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_pick_day')),
    )
    op.create_index('ix_fact_pick_day_measure_date', 'fact_pick_day', ['measure', 'business_date'],
                    postgresql_include=['currency', 'total', 'group_count'])
    op.execute(FILL)
    track_data_version('fact_pick_day', every_statement=True)  # beside fact_pick: dbtriggers.EVERY_STATEMENT
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE fact_pick_day')


def downgrade():
    untrack_data_version('fact_pick_day')
    op.drop_index('ix_fact_pick_day_measure_date', table_name='fact_pick_day')
    op.drop_table('fact_pick_day')
