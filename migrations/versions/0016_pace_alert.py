"""pace_alert: the week an owner was told their items are at risk (once per week at most)

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pace_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=True),
        sa.Column('items', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['user.id'], ondelete='CASCADE',
                                name=op.f('fk_pace_alert_person_id_user')),
        sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'], ondelete='CASCADE',
                                name=op.f('fk_pace_alert_cycle_id_appraisal_cycle')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pace_alert')),
        sa.UniqueConstraint('person_id', 'week', name=op.f('uq_pace_alert_person_id_week')),
    )


def downgrade():
    op.drop_table('pace_alert')
