"""bonus (奖惩): a bonus line per person per cycle, the cycle's pool, frozen by triggers (docs/bonus.md)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_bonus_freeze_triggers, drop_bonus_freeze_triggers

revision = '0015'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE (SQLite too): a batch copy of appraisal_cycle would DROP the old table,
    # which SQLite refuses while scorecards refer to it
    op.add_column('appraisal_cycle', sa.Column('bonus_budget', sa.Numeric(precision=14, scale=2), nullable=True))
    op.add_column('appraisal_cycle', sa.Column('bonus_frozen_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'bonus_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('base', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('grade', sa.String(length=16), nullable=True),
        sa.Column('coefficient', sa.Numeric(precision=6, scale=3), nullable=True),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('paid', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'],
                                name=op.f('fk_bonus_line_cycle_id_appraisal_cycle')),
        sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_bonus_line_person_id_user')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'],
                                name=op.f('fk_bonus_line_updated_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bonus_line')),
        sa.UniqueConstraint('cycle_id', 'person_id', name=op.f('uq_bonus_line_cycle_id_person_id')),
    )
    with op.batch_alter_table('bonus_line') as batch:
        batch.create_index(batch.f('ix_bonus_line_cycle_id'), ['cycle_id'], unique=False)
    create_bonus_freeze_triggers()


def downgrade():
    drop_bonus_freeze_triggers()
    with op.batch_alter_table('bonus_line') as batch:
        batch.drop_index(batch.f('ix_bonus_line_cycle_id'))
    op.drop_table('bonus_line')
    op.drop_column('appraisal_cycle', 'bonus_frozen_at')  # SQLite 3.35+ drops a column in place
    op.drop_column('appraisal_cycle', 'bonus_budget')
