"""import_record keeps the footprint of the facts it wrote: their stores, first day, last day (issue 10)

The tracking job after an import recomputes the scorecards and key results its stores and dates
meet (tracking.import_footprint). It read them from the import's facts: one pass over every fact
of the import (a sort and group of 209,600 facts for the import bench's Ads report; 0.09 s of the
bench's 15 imports, and the one statement of bench/analyze_growth_plans.py planned from stale
statistics: the new import's id is in none). The write phase knows them: it now stores them on
the record, in the import's transaction. A record committed before this migration has none and
is read from its facts as before.

import_record's data-token triggers are made again: SQLite's UPDATE trigger names every column
of the table it was made on (dbtriggers.track_data_version; tests/web/test_dashboard_memo.py).

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import track_data_version, untrack_data_version

# revision identifiers, used by Alembic.
revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None

COLUMNS = ('facts_stores', 'facts_from', 'facts_to')


def upgrade():
    untrack_data_version('import_record')
    op.add_column('import_record', sa.Column('facts_stores', sa.JSON(), nullable=True))
    op.add_column('import_record', sa.Column('facts_from', sa.Date(), nullable=True))
    op.add_column('import_record', sa.Column('facts_to', sa.Date(), nullable=True))
    track_data_version('import_record')


def downgrade():
    untrack_data_version('import_record')
    for name in COLUMNS:
        op.drop_column('import_record', name)  # SQLite 3.35+ drops a column in place
    track_data_version('import_record')
