"""fact_pick: the company dashboard's picked rows, kept between requests (issue 10)

See docs/dashboards.md, "The picked rows kept" and kpiapp/metrics/fact_pick.py. One row per
(store, measure, business_date, currency) of fact_day's one-day groups with facts whose family
ranks first on that store, measure and day, with the sum of their totals (in their own
currency) and their count. Filled here from fact_day with the statement of
`fact_pick.rebuild` (the family order as of this revision); from now on every writer of
fact_day replaces the same stores and days here in its transaction.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

FAMILY_PRIORITY = ("amazon_sales_traffic", "amazon_ads", "amazon_settlement", "amazon_orders",
                   "amazon_inventory", "shopee_orders", "shopee_escrow", "tiktok_orders", "generic")
RANK = "CASE family {} ELSE {} END".format(
    " ".join(f"WHEN '{name}' THEN {n}" for n, name in enumerate(FAMILY_PRIORITY)), len(FAMILY_PRIORITY))
FILL = f"""
INSERT INTO fact_pick (store_id, measure, business_date, currency, total, group_count)
SELECT store_id, measure, business_date, currency, SUM(total), COUNT(*)
FROM (SELECT store_id, measure, business_date, currency, total, {RANK} AS rank,
             MIN({RANK}) OVER (PARTITION BY store_id, measure, business_date) AS first
      FROM fact_day WHERE business_date = period_end AND facts > 0) AS ranked
WHERE rank = first
GROUP BY store_id, measure, business_date, currency
"""


def upgrade():
    op.create_table('fact_pick',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=48), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('total', sa.Numeric(precision=28, scale=6), nullable=False),
    sa.Column('group_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_fact_pick_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_pick'))
    )
    op.execute(FILL)
    op.create_index('ix_fact_pick_store_measure_date', 'fact_pick', ['store_id', 'measure', 'business_date'])
    op.create_index('ix_fact_pick_measure_date', 'fact_pick', ['measure', 'business_date'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE fact_pick')


def downgrade():
    op.drop_index('ix_fact_pick_measure_date', table_name='fact_pick')
    op.drop_index('ix_fact_pick_store_measure_date', table_name='fact_pick')
    op.drop_table('fact_pick')
