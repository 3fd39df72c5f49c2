"""data disputes (数据异议): a flag on one data-backed number, corrected or rejected (docs/disputes.md)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = "0013"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('open', 'corrected')"


def upgrade():
    op.create_table(
        'data_dispute',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scorecard_item_id', sa.Integer(), nullable=False),
        sa.Column('scorecard_id', sa.Integer(), nullable=False),
        sa.Column('raised_by_id', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('disputed_value', sa.Numeric(20, 6), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('resolution', sa.String(length=16), nullable=True),
        sa.Column('corrected_import_id', sa.Integer(), nullable=True),
        sa.Column('manual_value', sa.Numeric(20, 6), nullable=True),
        sa.Column('corrected_value', sa.Numeric(20, 6), nullable=True),
        sa.Column('resolution_note', sa.Text(), nullable=True),
        sa.Column('handled_by_id', sa.Integer(), nullable=True),
        sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('close_note', sa.Text(), nullable=True),
        sa.Column('lock_override_reason', sa.Text(), nullable=True),
        sa.Column('lock_override_by_id', sa.Integer(), nullable=True),
        sa.Column('lock_override_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['scorecard_item_id'], ['scorecard_item.id'],
                                name=op.f('fk_data_dispute_scorecard_item_id_scorecard_item')),
        sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'],
                                name=op.f('fk_data_dispute_scorecard_id_scorecard')),
        sa.ForeignKeyConstraint(['corrected_import_id'], ['import_record.id'],
                                name=op.f('fk_data_dispute_corrected_import_id_import_record')),
        sa.ForeignKeyConstraint(['raised_by_id'], ['user.id'],
                                name=op.f('fk_data_dispute_raised_by_id_user')),
        sa.ForeignKeyConstraint(['handled_by_id'], ['user.id'],
                                name=op.f('fk_data_dispute_handled_by_id_user')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'],
                                name=op.f('fk_data_dispute_closed_by_id_user')),
        sa.ForeignKeyConstraint(['lock_override_by_id'], ['user.id'],
                                name=op.f('fk_data_dispute_lock_override_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_dispute')),
    )
    with op.batch_alter_table('data_dispute') as batch:
        batch.create_index(batch.f('ix_data_dispute_status'), ['status'], unique=False)
        batch.create_index(batch.f('ix_data_dispute_scorecard_id'), ['scorecard_id'], unique=False)
        batch.create_index(batch.f('ix_data_dispute_scorecard_item_id'), ['scorecard_item_id'], unique=False)
    op.create_index('uq_data_dispute_active_item', 'data_dispute', ['scorecard_item_id'], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_table(
        'data_dispute_store',
        sa.Column('dispute_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['dispute_id'], ['data_dispute.id'], ondelete='CASCADE',
                                name=op.f('fk_data_dispute_store_dispute_id_data_dispute')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'],
                                name=op.f('fk_data_dispute_store_store_id_store')),
        sa.PrimaryKeyConstraint('dispute_id', 'store_id', name=op.f('pk_data_dispute_store')),
    )
    with op.batch_alter_table('data_dispute_store') as batch:
        batch.create_index(batch.f('ix_data_dispute_store_store_id'), ['store_id'], unique=False)


def downgrade():
    with op.batch_alter_table('data_dispute_store') as batch:
        batch.drop_index(batch.f('ix_data_dispute_store_store_id'))
    op.drop_table('data_dispute_store')
    op.drop_index('uq_data_dispute_active_item', table_name='data_dispute')
    with op.batch_alter_table('data_dispute') as batch:
        batch.drop_index(batch.f('ix_data_dispute_scorecard_item_id'))
        batch.drop_index(batch.f('ix_data_dispute_scorecard_id'))
        batch.drop_index(batch.f('ix_data_dispute_status'))
    op.drop_table('data_dispute')
