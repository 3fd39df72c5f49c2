"""connectors: store_connection (sealed credentials and tokens, kinds, schedule, status) and
connection_pull (one row per pull run); issue 15, docs/connectors.md

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('store_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('credentials_sealed', sa.Text(), nullable=True),
    sa.Column('tokens_sealed', sa.Text(), nullable=True),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('every_minutes', sa.Integer(), nullable=False),
    sa.Column('freshness_hours', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_error', sa.String(length=32), nullable=True),
    sa.Column('lock_token', sa.String(length=32), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_store_connection_store_id_store'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_connection')),
    sa.UniqueConstraint('store_id', 'platform', name=op.f('uq_store_connection_store_id_platform'))
    )
    with op.batch_alter_table('store_connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_store_connection_store_id'), ['store_id'], unique=False)

    op.create_table('connection_pull',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=True),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('failure', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_ids', sa.JSON(), nullable=False),
    sa.Column('facts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['store_connection.id'], name=op.f('fk_connection_pull_connection_id_store_connection'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_pull'))
    )
    with op.batch_alter_table('connection_pull', schema=None) as batch_op:
        batch_op.create_index('ix_connection_pull_latest', ['connection_id', 'kind', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('connection_pull', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_pull_latest')

    op.drop_table('connection_pull')
    with op.batch_alter_table('store_connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_store_connection_store_id'))

    op.drop_table('store_connection')
