"""dashboard public panels: the company dashboard panels HR shows to every staff member

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dashboard_public_panel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dashboard', sa.String(length=32), nullable=False),
        sa.Column('panel', sa.String(length=48), nullable=False),
        sa.Column('made_public_by_id', sa.Integer(), nullable=True),
        sa.Column('made_public_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['made_public_by_id'], ['user.id'],
                                name=op.f('fk_dashboard_public_panel_made_public_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_public_panel')),
        sa.UniqueConstraint('dashboard', 'panel', name=op.f('uq_dashboard_public_panel_dashboard_panel')),
    )


def downgrade():
    op.drop_table('dashboard_public_panel')
