"""scorecard_item.direction, generated from the rule; the card index covers the at-risk rule (issue 10)

The team dashboard's at-risk statement (tracking/risk.py) read each item's direction out of
its `rule` JSON: PostgreSQL parses a `json` value on every `->>`, once per item of the team
(40,000 at 5,000 people), on rows ~1.4 kB wide (scope, provenance, explanation). The
direction is now a column the database derives from `rule` on every INSERT and UPDATE,
whatever writes it (ORM, bulk UPDATE, raw SQL): STORED on PostgreSQL (this upgrade rewrites
the table once, which fills it), VIRTUAL on SQLite (ALTER TABLE cannot add a stored one).
On PostgreSQL the card index ix_scorecard_item_scorecard_id also INCLUDEs every column the
at-risk rule reads (models/appraisal.py AT_RISK_COLUMNS), so the rule is evaluated from the
index (an index-only scan) instead of the item rows; SQLite keeps the plain index.
Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


AT_RISK_COLUMNS = ['id', 'kind', 'metric_key', 'actual', 'threshold', 'target', 'data_as_of', 'direction']


def postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    direction = sa.column('rule', sa.JSON)['direction'].as_string()  # models/appraisal.py, rule_direction
    generated = sa.Computed(direction, persisted=postgresql() or None)
    op.add_column('scorecard_item', sa.Column('direction', sa.String(), generated, nullable=True))
    if postgresql():
        op.drop_index('ix_scorecard_item_scorecard_id', table_name='scorecard_item')
        op.create_index('ix_scorecard_item_scorecard_id', 'scorecard_item', ['scorecard_id'],
                        postgresql_include=AT_RISK_COLUMNS)


def downgrade():
    if postgresql():
        op.drop_index('ix_scorecard_item_scorecard_id', table_name='scorecard_item')
        op.create_index('ix_scorecard_item_scorecard_id', 'scorecard_item', ['scorecard_id'])
    op.drop_column('scorecard_item', 'direction')
