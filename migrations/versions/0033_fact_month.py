"""fact_month: fact_pick's rows summed by (store, measure, month) in the base currency (issue 10)

See docs/dashboards.md, "The months kept" and kpiapp/metrics/fact_month.py. One row per (store,
measure, month) of fact_pick's rows, money converted to the base currency at each day's rate
when written; fact_month_stale holds the months whose rates were written since (a trigger on
fx_rate, kpiapp/dbtriggers.py create_rate_mark_triggers). Filled here with the statement of
`fact_month.rebuild`, in the configured BASE_CURRENCY.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from kpiapp.dbtriggers import create_rate_mark_triggers, drop_rate_mark_triggers
from kpiapp.metrics import fact_month


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fact_month',
        sa.Column('measure', sa.String(length=48), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('base', sa.String(length=3), nullable=False),
        sa.Column('total', sa.Numeric(), nullable=True),
        sa.Column('group_count', sa.Integer(), nullable=False),
        sa.Column('missing', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_fact_month_store_id_store')),
        sa.PrimaryKeyConstraint('measure', 'month', 'store_id', name=op.f('pk_fact_month')),
    )
    op.create_index('ix_fact_month_store_month', 'fact_month', ['store_id', 'month'])
    op.create_table(
        'fact_month_stale',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('marks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', name=op.f('pk_fact_month_stale')),
    )
    bind = op.get_bind()
    bind.execute(sa.insert(fact_month.MONTHS).from_select(
        list(fact_month.COLUMNS), fact_month.month_sums(bind.dialect.name, current_app.config["BASE_CURRENCY"])))
    create_rate_mark_triggers()
    if bind.dialect.name == 'postgresql':
        op.execute('ANALYZE fact_month')


def downgrade():
    drop_rate_mark_triggers()
    op.drop_table('fact_month_stale')
    op.drop_index('ix_fact_month_store_month', table_name='fact_month')
    op.drop_table('fact_month')
