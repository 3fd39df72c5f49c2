"""audit refusal throttle buckets; audit_event.key_id for HMAC-keyed events

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02

One row per identical refusal (actor, action, entity, reason) per minute; see
kpiapp/audit.py record_refusal.  Anchors of the chain live outside the database.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD/DROP COLUMN, never a batch copy: that would drop the append-only triggers
    op.add_column('audit_event', sa.Column('key_id', sa.String(length=16), nullable=True))
    op.create_table(
        'audit_refusal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('entity', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_refusal')),
        sa.UniqueConstraint('key', 'minute', name=op.f('uq_audit_refusal_key_minute')),
    )


def downgrade():
    op.drop_table('audit_refusal')
    op.execute('ALTER TABLE audit_event DROP COLUMN key_id')
