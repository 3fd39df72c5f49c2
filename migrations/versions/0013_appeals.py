"""appeals (申诉): an employee's objection to a locked result, with status, reply and deadline

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appeal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scorecard_id', sa.Integer(), nullable=False),
        sa.Column('raised_by_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('replied_by_id', sa.Integer(), nullable=True),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('close_note', sa.Text(), nullable=True),
        sa.Column('new_scorecard_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'],
                                name=op.f('fk_appeal_scorecard_id_scorecard')),
        sa.ForeignKeyConstraint(['new_scorecard_id'], ['scorecard.id'],
                                name=op.f('fk_appeal_new_scorecard_id_scorecard')),
        sa.ForeignKeyConstraint(['raised_by_id'], ['user.id'], name=op.f('fk_appeal_raised_by_id_user')),
        sa.ForeignKeyConstraint(['replied_by_id'], ['user.id'], name=op.f('fk_appeal_replied_by_id_user')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_appeal_closed_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal')),
        sa.UniqueConstraint('scorecard_id', name=op.f('uq_appeal_scorecard_id')),
    )
    with op.batch_alter_table('appeal') as batch:
        batch.create_index(batch.f('ix_appeal_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('appeal') as batch:
        batch.drop_index(batch.f('ix_appeal_status'))
    op.drop_table('appeal')
