"""import warnings in their own column (columns not read, measures missing, rows skipped)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('import_record', sa.Column('warnings', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_record') as batch:
        batch.drop_column('warnings')
