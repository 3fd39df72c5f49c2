"""reminders: per-cycle reminder settings on appraisal_cycle and the reminder_log table

See docs/reminders.md. The settings are added with a plain ALTER TABLE and a server default,
so running cycles get the defaults (3 and 1 days before, every 2 days overdue, to the manager
from 3 days overdue).

Revision ID: 0022
Revises: 0021 (0019 on its own; chained after notify-core's 0021 once merged)
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

SETTINGS = (
    sa.Column('reminders_on', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('remind_before', sa.String(length=32), server_default='3,1', nullable=False),
    sa.Column('remind_every', sa.Integer(), server_default='2', nullable=False),
    sa.Column('escalate_after', sa.Integer(), server_default='3', nullable=False),
)


def upgrade():
    for column in SETTINGS:
        op.add_column('appraisal_cycle', column)
    op.create_table('reminder_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('scorecard_id', sa.Integer(), nullable=True),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'], name=op.f('fk_reminder_log_cycle_id_appraisal_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], name=op.f('fk_reminder_log_notification_id_notification'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_reminder_log_person_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_reminder_log_recipient_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_reminder_log_scorecard_id_scorecard'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_log')),
    sa.UniqueConstraint('cycle_id', 'stage', 'person_id', 'recipient_id', 'day', name='uq_reminder_log_day')
    )
    op.create_index('ix_reminder_log_cycle_sent', 'reminder_log', ['cycle_id', 'sent_at'], unique=False)
    op.create_index('ix_reminder_log_recipient_day', 'reminder_log', ['recipient_id', 'day'], unique=False)


def downgrade():
    op.drop_index('ix_reminder_log_recipient_day', table_name='reminder_log')
    op.drop_index('ix_reminder_log_cycle_sent', table_name='reminder_log')
    op.drop_table('reminder_log')
    for column in reversed(SETTINGS):
        op.drop_column('appraisal_cycle', column.name)
