"""scorecard_item's stored at-risk flag, emptied by a trigger when an input changes (issue 10)

The team dashboard and the company's at-risk counts evaluated the at-risk rule on every
metric item of the team or cycle on each request (40,000 at 5,000 people; 44-88 ms of the
team dashboard's one statement). The flag is now stored on the item by the runs that pace
every item anyway (tracking/risk.py `store_flags`: the recompute, the imports' recompute and
the daily at-risk run), with the day it was computed for, whether it holds on later days,
and the basis it was computed with (item_risk_basis: per cycle, the cycle's dates and the
metric definitions). Two partial indexes split the items: those that may be at risk (every
item without a flag, at risk, or whose flag is for one day only), which the dashboards read,
and those flagged "not at risk, lasting", which they probe by basis and day for flags that
no longer hold (an edited definition or cycle, a clock set back). The dashboards read a flag
only where it provably holds today and evaluate the rule live everywhere else (docs/pace.md,
"The stored flag").

scorecard_item_store gets an index by store: the all-stores page counts the attainment and
the at-risk items of its 50 stores from their items, found by store (the primary key leads
with the item: every pair of the cycle was read).

Triggers (kpiapp/dbtriggers.py, create_risk_triggers) empty the flag whenever an INSERT
carries one or an UPDATE changes an input of the rule, whatever writes it.

Backfill: none is needed for the results, by construction: every existing item starts
without a flag, which the dashboards compute live exactly as before; the first recompute
or `flask kpi at-risk` stores the flags (the app's code, which a migration cannot run on
its own connection). On PostgreSQL the card index also INCLUDEs the four columns (beside 0031's points and weight), so the
dashboards still read a team's items from the index alone.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_risk_triggers, drop_risk_triggers


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


AT_RISK_COLUMNS = ['id', 'kind', 'metric_key', 'actual', 'threshold', 'target', 'data_as_of', 'direction']
FLAG_COLUMNS = ['risk_flag', 'risk_day', 'risk_lasts', 'risk_basis']
POINTS_COLUMNS = ['computed_points', 'final_points', 'weight']  # 0031
MAYBE = 'risk_flag IS NOT false OR risk_lasts IS NOT true'  # models/appraisal.py RISK_MAYBE
LASTING = 'risk_flag IS false AND risk_lasts IS true'  # RISK_LASTING


def postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def card_index(columns):
    op.drop_index('ix_scorecard_item_scorecard_id', table_name='scorecard_item')
    op.create_index('ix_scorecard_item_scorecard_id', 'scorecard_item', ['scorecard_id'],
                    postgresql_include=columns)


def upgrade():
    op.create_table(
        'item_risk_basis',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'],
                                name=op.f('fk_item_risk_basis_cycle_id_appraisal_cycle'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_risk_basis')),
        sa.UniqueConstraint('cycle_id', 'basis', name=op.f('uq_item_risk_basis_cycle_id_basis')),
    )
    for name, kind in zip(FLAG_COLUMNS, (sa.Boolean(), sa.Date(), sa.Boolean(), sa.Integer())):
        op.add_column('scorecard_item', sa.Column(name, kind, nullable=True))  # no table rewrite
    if postgresql():
        card_index(AT_RISK_COLUMNS + FLAG_COLUMNS + POINTS_COLUMNS)
    op.create_index('ix_scorecard_item_risk_maybe', 'scorecard_item', ['scorecard_id'],
                    postgresql_include=AT_RISK_COLUMNS + FLAG_COLUMNS,
                    postgresql_where=sa.text(MAYBE), sqlite_where=sa.text(MAYBE))
    op.create_index('ix_scorecard_item_risk_lasting', 'scorecard_item', ['risk_basis', 'risk_day'],
                    postgresql_where=sa.text(LASTING), sqlite_where=sa.text(LASTING))
    create_risk_triggers()
    # the all-stores page's 50 stores: their items found by store, not by reading every pair
    op.create_index('ix_scorecard_item_store_store_id', 'scorecard_item_store', ['store_id', 'item_id'])


def downgrade():
    op.drop_index('ix_scorecard_item_store_store_id', table_name='scorecard_item_store')
    drop_risk_triggers()
    op.drop_index('ix_scorecard_item_risk_lasting', table_name='scorecard_item')
    op.drop_index('ix_scorecard_item_risk_maybe', table_name='scorecard_item')
    if postgresql():
        card_index(AT_RISK_COLUMNS + POINTS_COLUMNS)
    for name in reversed(FLAG_COLUMNS):
        op.drop_column('scorecard_item', name)
    op.drop_table('item_risk_basis')
