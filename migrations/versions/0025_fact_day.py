"""fact_day: the facts a metric counts, pre-summed by day group (issue 10)

See docs/scaling.md, "fact_day" and kpiapp/metrics/fact_day.py. One row per (store, family,
measure, business_date, period_end, currency) of metric_fact with the sum and count of the
facts a metric counts there (a SKU row under its total row left out), their import ids and
the count of every fact of the key. A recompute reads these instead of summing facts; the
import keeps them in the facts' transaction. Filled here from the facts already imported,
with the same statement as `flask kpi rebuild-fact-day`. Not partitioned: ~one row per
store, measure and day, a fraction of the facts.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

RANGES = sa.text('business_date <> period_end')
KEY = 'store_id, family, measure, business_date, period_end, currency'
# the SELECT of metric/fact_day.day_sums over every fact (the schema as of this revision)
FILL = """
INSERT INTO fact_day ({key}, total, facts, all_facts, import_ids)
SELECT {f_key},
       SUM(CASE WHEN t.id IS NULL THEN f.value END),
       SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END),
       COUNT(*),
       {import_ids}
FROM metric_fact f LEFT OUTER JOIN metric_fact t
  ON f.sku != '' AND t.sku = '' AND t.store_id = f.store_id AND t.family = f.family
 AND t.business_date = f.business_date AND t.period_end = f.period_end AND t.ref = f.ref
 AND t.measure = f.measure
GROUP BY {f_key}
"""
IMPORT_IDS = {
    'postgresql': "string_agg(DISTINCT CAST(CASE WHEN t.id IS NULL THEN f.import_id END AS VARCHAR), ',')",
    'sqlite': "group_concat(DISTINCT CAST(CASE WHEN t.id IS NULL THEN f.import_id END AS VARCHAR))",
}


def upgrade():
    op.create_table('fact_day',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=48), nullable=False),
    sa.Column('measure', sa.String(length=48), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('total', sa.Numeric(precision=28, scale=6), nullable=True),
    sa.Column('facts', sa.Integer(), nullable=False),
    sa.Column('all_facts', sa.Integer(), nullable=False),
    sa.Column('import_ids', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_fact_day_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_day'))
    )
    op.create_index('ix_fact_day_store_measure_date', 'fact_day', ['store_id', 'measure', 'business_date'])
    op.create_index('ix_fact_day_store_family_date', 'fact_day', ['store_id', 'family', 'business_date'])
    op.create_index('ix_fact_day_ranges', 'fact_day', ['store_id', 'measure', 'business_date'],
                    postgresql_where=RANGES, sqlite_where=RANGES)
    dialect = op.get_bind().dialect.name
    f_key = ', '.join(f'f.{name}' for name in KEY.split(', '))
    op.execute(FILL.format(key=KEY, f_key=f_key, import_ids=IMPORT_IDS[dialect]))
    if dialect == 'postgresql':
        op.execute('ANALYZE fact_day')


def downgrade():
    op.drop_index('ix_fact_day_ranges', table_name='fact_day')
    op.drop_index('ix_fact_day_store_family_date', table_name='fact_day')
    op.drop_index('ix_fact_day_store_measure_date', table_name='fact_day')
    op.drop_table('fact_day')
