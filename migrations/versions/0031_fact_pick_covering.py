"""The company dashboard reads fact_pick and the items from covering indexes (issue 10)

The company dashboard copied the period's picked rows (~300,000 at 10M facts) from fact_pick
into a temporary table on every request; now each statement reads fact_pick's rows of its own
measures and days (`dashboards.fact_sums.FactSums.picked_rows`, `stored_sums`,
`stored_last_days`), so fact_pick's indexes cover what they read (index-only scans):

* (measure, business_date) INCLUDE (store_id, currency, total, group_count): the sums by day
  and by store and month, the movers' two weeks, the newest day;
* (store_id, business_date) INCLUDE (measure, currency, total, group_count) in place of
  (store_id, measure, business_date): each store's last day for the freshness panel (one
  backward probe a store), a store filter's rows, and `fact_pick.refresh`'s delete (stores ×
  days);
* the card index of scorecard_item (0029) also INCLUDEs computed_points, final_points and
  weight, so attainment by department and by store read the items from the index too.

PostgreSQL only for INCLUDE; SQLite keeps plain indexes (and gets (store_id, business_date)).
No data changes.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

PICK_COLUMNS = ['currency', 'total', 'group_count']
AT_RISK_COLUMNS = ['id', 'kind', 'metric_key', 'actual', 'threshold', 'target', 'data_as_of', 'direction']
POINTS_COLUMNS = ['computed_points', 'final_points', 'weight']


def postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    op.drop_index('ix_fact_pick_measure_date', table_name='fact_pick')
    op.create_index('ix_fact_pick_measure_date', 'fact_pick', ['measure', 'business_date'],
                    postgresql_include=['store_id', *PICK_COLUMNS])
    op.drop_index('ix_fact_pick_store_measure_date', table_name='fact_pick')
    op.create_index('ix_fact_pick_store_date', 'fact_pick', ['store_id', 'business_date'],
                    postgresql_include=['measure', *PICK_COLUMNS])
    if postgresql():
        op.drop_index('ix_scorecard_item_scorecard_id', table_name='scorecard_item')
        op.create_index('ix_scorecard_item_scorecard_id', 'scorecard_item', ['scorecard_id'],
                        postgresql_include=AT_RISK_COLUMNS + POINTS_COLUMNS)


def downgrade():
    if postgresql():
        op.drop_index('ix_scorecard_item_scorecard_id', table_name='scorecard_item')
        op.create_index('ix_scorecard_item_scorecard_id', 'scorecard_item', ['scorecard_id'],
                        postgresql_include=AT_RISK_COLUMNS)
    op.drop_index('ix_fact_pick_store_date', table_name='fact_pick')
    op.create_index('ix_fact_pick_store_measure_date', 'fact_pick', ['store_id', 'measure', 'business_date'])
    op.drop_index('ix_fact_pick_measure_date', table_name='fact_pick')
    op.create_index('ix_fact_pick_measure_date', 'fact_pick', ['measure', 'business_date'])
