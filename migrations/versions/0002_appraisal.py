"""appraisal cycle: KPI templates, cycles, scorecards and their history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Locked scorecards are frozen by triggers (kpiapp/dbtriggers.py) on both
SQLite and PostgreSQL; scorecard_event and acknowledgement are append-only.

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_lock_triggers, drop_lock_triggers
from kpiapp.dbtriggers import create_append_only, drop_append_only


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appraisal_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('hr_approval_required', sa.Boolean(), nullable=False),
    sa.Column('grade_table', sa.JSON(), nullable=False),
    sa.Column('targets_due', sa.Date(), nullable=True),
    sa.Column('approval_due', sa.Date(), nullable=True),
    sa.Column('self_review_due', sa.Date(), nullable=True),
    sa.Column('manager_review_due', sa.Date(), nullable=True),
    sa.Column('calibration_due', sa.Date(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_cycle'))
    )
    op.create_table('kpi_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['position_id'], ['position.id'], name=op.f('fk_kpi_template_position_id_position')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_template')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_kpi_template_code_version'))
    )
    with op.batch_alter_table('kpi_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_template_code'), ['code'], unique=False)

    op.create_table('cycle_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('position_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'], name=op.f('fk_cycle_participant_cycle_id_appraisal_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_cycle_participant_department_id_department')),
    sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_cycle_participant_person_id_user')),
    sa.ForeignKeyConstraint(['position_id'], ['position.id'], name=op.f('fk_cycle_participant_position_id_position')),
    sa.ForeignKeyConstraint(['template_id'], ['kpi_template.id'], name=op.f('fk_cycle_participant_template_id_kpi_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_participant'))
    )
    with op.batch_alter_table('cycle_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_participant_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('cycle_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'], name=op.f('fk_cycle_template_cycle_id_appraisal_cycle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['position_id'], ['position.id'], name=op.f('fk_cycle_template_position_id_position')),
    sa.ForeignKeyConstraint(['template_id'], ['kpi_template.id'], name=op.f('fk_cycle_template_template_id_kpi_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_template')),
    sa.UniqueConstraint('cycle_id', 'position_id', name=op.f('uq_cycle_template_cycle_id_position_id'))
    )
    op.create_table('kpi_template_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('metric_key', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('tag', sa.String(length=16), nullable=False),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('target', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('threshold', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('stretch', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['kpi_template.id'], name=op.f('fk_kpi_template_item_template_id_kpi_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_template_item'))
    )
    with op.batch_alter_table('kpi_template_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_template_item_template_id'), ['template_id'], unique=False)

    op.create_table('scorecard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('self_comment', sa.Text(), nullable=True),
    sa.Column('manager_comment', sa.Text(), nullable=True),
    sa.Column('calibrated_grade', sa.String(length=16), nullable=True),
    sa.Column('calibration_reason', sa.Text(), nullable=True),
    sa.Column('total', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('bonus_coefficient', sa.Numeric(precision=6, scale=3), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'], name=op.f('fk_scorecard_cycle_id_appraisal_cycle')),
    sa.ForeignKeyConstraint(['locked_by_id'], ['user.id'], name=op.f('fk_scorecard_locked_by_id_user')),
    sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_scorecard_person_id_user')),
    sa.ForeignKeyConstraint(['reopened_from_id'], ['scorecard.id'], name=op.f('fk_scorecard_reopened_from_id_scorecard')),
    sa.ForeignKeyConstraint(['template_id'], ['kpi_template.id'], name=op.f('fk_scorecard_template_id_kpi_template')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_scorecard_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard')),
    sa.UniqueConstraint('cycle_id', 'person_id', 'version', name=op.f('uq_scorecard_cycle_id_person_id_version'))
    )
    with op.batch_alter_table('scorecard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecard_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecard_state'), ['state'], unique=False)

    op.create_table('acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('objection', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_acknowledgement_person_id_user')),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_acknowledgement_scorecard_id_scorecard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgement')),
    sa.UniqueConstraint('scorecard_id', name=op.f('uq_acknowledgement_scorecard_id'))
    )
    op.create_table('change_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_change_request_decided_by_id_user')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_change_request_requested_by_id_user')),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_change_request_scorecard_id_scorecard'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_request'))
    )
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_request_scorecard_id'), ['scorecard_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_notification_scorecard_id_scorecard')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    op.create_table('scorecard_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('old_state', sa.String(length=20), nullable=False),
    sa.Column('new_state', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_scorecard_event_actor_id_user')),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_scorecard_event_scorecard_id_scorecard')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_event'))
    )
    with op.batch_alter_table('scorecard_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_event_scorecard_id'), ['scorecard_id'], unique=False)

    op.create_table('scorecard_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('actual', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('data_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provenance', sa.JSON(), nullable=True),
    sa.Column('computed_points', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=True),
    sa.Column('self_score', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('self_comment', sa.Text(), nullable=True),
    sa.Column('manager_score', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('manager_comment', sa.Text(), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('final_points', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('metric_key', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('tag', sa.String(length=16), nullable=False),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('target', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('threshold', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('stretch', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_scorecard_item_scorecard_id_scorecard'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_item'))
    )
    with op.batch_alter_table('scorecard_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_item_scorecard_id'), ['scorecard_id'], unique=False)

    op.create_table('scorecard_item_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('change_request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_request.id'], name=op.f('fk_scorecard_item_version_change_request_id_change_request')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_scorecard_item_version_created_by_id_user')),
    sa.ForeignKeyConstraint(['item_id'], ['scorecard_item.id'], name=op.f('fk_scorecard_item_version_item_id_scorecard_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'], name=op.f('fk_scorecard_item_version_scorecard_id_scorecard'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_item_version')),
    sa.UniqueConstraint('item_id', 'revision', name=op.f('uq_scorecard_item_version_item_id_revision'))
    )
    with op.batch_alter_table('scorecard_item_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_item_version_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecard_item_version_scorecard_id'), ['scorecard_id'], unique=False)
    create_lock_triggers()
    create_append_only('scorecard_event')
    create_append_only('acknowledgement')


def downgrade():
    drop_append_only('acknowledgement')
    drop_append_only('scorecard_event')
    drop_lock_triggers()
    with op.batch_alter_table('scorecard_item_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_item_version_scorecard_id'))
        batch_op.drop_index(batch_op.f('ix_scorecard_item_version_item_id'))

    op.drop_table('scorecard_item_version')
    with op.batch_alter_table('scorecard_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_item_scorecard_id'))

    op.drop_table('scorecard_item')
    with op.batch_alter_table('scorecard_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_event_scorecard_id'))

    op.drop_table('scorecard_event')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))

    op.drop_table('notification')
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_request_scorecard_id'))

    op.drop_table('change_request')
    op.drop_table('acknowledgement')
    with op.batch_alter_table('scorecard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_state'))
        batch_op.drop_index(batch_op.f('ix_scorecard_person_id'))
        batch_op.drop_index(batch_op.f('ix_scorecard_cycle_id'))

    op.drop_table('scorecard')
    with op.batch_alter_table('kpi_template_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_template_item_template_id'))

    op.drop_table('kpi_template_item')
    op.drop_table('cycle_template')
    with op.batch_alter_table('cycle_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_participant_cycle_id'))

    op.drop_table('cycle_participant')
    with op.batch_alter_table('kpi_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_template_code'))

    op.drop_table('kpi_template')
    op.drop_table('appraisal_cycle')
