"""scorecard_item by metric key: the company dashboard's trend targets (issue 10)

`company.item_targets` sums the targets of the cycle's latest items of the four trend metrics.
It read them through the card index (ix_scorecard_item_scorecard_id): 5,000 probes, one a latest
card, reading its 8 items and keeping 2 (15,000 buffers, 18-27 ms of the first build after a
write at 5,000 people). An index on (metric_key, scorecard_id), with the target on PostgreSQL,
gives the 10,000 items of those keys in one index-only range scan (about 50 buffers), hashed
against the latest cards. SQLite gets the plain index. No data changes.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-05

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_scorecard_item_metric_key', 'scorecard_item', ['metric_key', 'scorecard_id'],
                    postgresql_include=['target'])


def downgrade():
    op.drop_index('ix_scorecard_item_metric_key', table_name='scorecard_item')
