"""review_draft: what someone typed into a self- or manager review and has not saved yet

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'review_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scorecard_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], ondelete='CASCADE',
                                name=op.f('fk_review_draft_scorecard_id_scorecard')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE',
                                name=op.f('fk_review_draft_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_draft')),
        sa.UniqueConstraint('scorecard_id', 'user_id', 'stage',
                            name=op.f('uq_review_draft_scorecard_id_user_id_stage')),
    )
    with op.batch_alter_table('review_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_draft_scorecard_id'), ['scorecard_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_draft_scorecard_id'))
    op.drop_table('review_draft')
