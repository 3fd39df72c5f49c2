"""fact_month: fact_pick's rows summed by (store, measure, month) in the base currency (issue 10)

See docs/dashboards.md, "The months kept" and kpiapp/metrics/fact_month.py. One row per (store,
measure, month) of fact_pick's rows, money converted to the base currency at each day's rate
when written; fact_month_stale holds the months whose rates were written since (a trigger on
fx_rate, kpiapp/dbtriggers.py create_rate_mark_triggers). Filled here, in the configured
BASE_CURRENCY, with the statement `fact_month.rebuild` ran when this migration was written,
inlined (MONTH_SUMS: the money measures of parsers/measures.py then), so that later changes to
the app's code do not change what this migration writes.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from kpiapp.dbtriggers import create_rate_mark_triggers, drop_rate_mark_triggers


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

# the measures whose unit was money (parsers/measures.py BASE_MEASURES) when this was written
MONEY = ('ad_sales', 'ad_sales_same_sku', 'ad_spend', 'advertising_cost_settled', 'cancelled_sales',
         'claims_amount', 'cogs', 'commission_fees', 'escrow_amount', 'fulfillment_fees', 'inbound_freight',
         'ordered_sales', 'ordered_sales_b2b', 'other_fees', 'other_settlement_amounts', 'platform_discounts',
         'promotion_costs', 'referral_fees', 'refund_amount', 'reimbursements', 'seller_discounts', 'service_fees',
         'settled_product_sales', 'settled_refunds', 'settled_shipping', 'settled_tax', 'shipped_sales',
         'shipping_fees', 'storage_fees', 'taxes_withheld', 'transaction_fees')
MONTH = {'postgresql': "CAST(date_trunc('month', p.business_date) AS DATE)",
         'sqlite': "date(p.business_date, 'start of month')"}
# fact_pick's rows summed by (store, measure, month): money in another currency than the base
# times its business date's rate (none: adds nothing, its groups counted as missing)
FOREIGN = ("p.measure IN ({money}) AND p.currency IS NOT NULL AND p.currency != '' "
           "AND p.currency != :base")
MONTH_SUMS = ("INSERT INTO fact_month (store_id, measure, month, base, total, group_count, missing) "
              "SELECT p.store_id, p.measure, {month}, :base, "
              "sum(CASE WHEN ({foreign}) THEN p.total * fx_rate.rate ELSE p.total END), "
              "sum(p.group_count), "
              "sum(CASE WHEN ({foreign} AND fx_rate.rate IS NULL) THEN 1 ELSE 0 END * p.group_count) "
              "FROM fact_pick AS p LEFT OUTER JOIN fx_rate ON {foreign} "
              "AND fx_rate.date = p.business_date AND fx_rate.currency = p.currency "
              "GROUP BY p.store_id, p.measure, {month}")


def month_sums(dialect_name):
    foreign = FOREIGN.format(money=", ".join(f"'{m}'" for m in MONEY))
    return sa.text(MONTH_SUMS.format(month=MONTH[dialect_name], foreign=foreign))


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
    bind.execute(month_sums(bind.dialect.name), {"base": current_app.config["BASE_CURRENCY"]})
    create_rate_mark_triggers()
    if bind.dialect.name == 'postgresql':
        op.execute('ANALYZE fact_month')


def downgrade():
    drop_rate_mark_triggers()
    op.drop_table('fact_month_stale')
    op.drop_index('ix_fact_month_store_month', table_name='fact_month')
    op.drop_table('fact_month')
