"""merge the appraisal (0002) and metrics (0003) branches

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-27

"""
revision = '0004'
down_revision = ('0002', '0003')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
