"""objectives: objectives and key results, milestones, check-ins, tasks, comments and mentions,
weekly reviews; scorecard_item.key_result_id and appraisal_cycle.okr_weight

See docs/objectives.md. The two columns on existing tables are added with a plain ALTER
TABLE (a batch copy fails on SQLite once other rows refer to those tables); SQLite takes the
foreign key in the ADD COLUMN clause.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import dialect


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_comment_author_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_target', ['target_kind', 'target_id'], unique=False)

    op.create_table('objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('period_kind', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('rollup', sa.Boolean(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_objective_created_by_id_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_objective_department_id_department')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_objective_owner_id_user')),
    sa.ForeignKeyConstraint(['parent_id'], ['objective.id'], name=op.f('fk_objective_parent_id_objective')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective'))
    )
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objective_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objective_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objective_parent_id'), ['parent_id'], unique=False)

    op.create_table('weekly_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_weekly_review_closed_by_id_user')),
    sa.ForeignKeyConstraint(['manager_id'], ['user.id'], name=op.f('fk_weekly_review_manager_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_review')),
    sa.UniqueConstraint('manager_id', 'week', name=op.f('uq_weekly_review_manager_id_week'))
    )
    with op.batch_alter_table('weekly_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_review_manager_id'), ['manager_id'], unique=False)

    op.create_table('comment_mention',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_mention_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_comment_mention_person_id_user')),
    sa.PrimaryKeyConstraint('comment_id', 'person_id', name=op.f('pk_comment_mention'))
    )
    with op.batch_alter_table('comment_mention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_mention_person_id'), ['person_id'], unique=False)

    op.create_table('key_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('metric_key', sa.String(length=64), nullable=True),
    sa.Column('scope', sa.JSON(), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('start_value', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('target', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('current', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('progress', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('confidence', sa.String(length=16), nullable=True),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('data_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provenance', sa.JSON(), nullable=True),
    sa.Column('parent_kr_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_key_result_objective_id_objective'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_key_result_owner_id_user')),
    sa.ForeignKeyConstraint(['parent_kr_id'], ['key_result.id'], name=op.f('fk_key_result_parent_kr_id_key_result')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_result'))
    )
    with op.batch_alter_table('key_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_result_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_result_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_result_parent_kr_id'), ['parent_kr_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_result_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('confidence', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('private_note', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_check_in_author_id_user')),
    sa.ForeignKeyConstraint(['key_result_id'], ['key_result.id'], name=op.f('fk_check_in_key_result_id_key_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_key_result_id'), ['key_result_id'], unique=False)

    op.create_table('kr_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_result_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['key_result_id'], ['key_result.id'], name=op.f('fk_kr_milestone_key_result_id_key_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kr_milestone'))
    )
    with op.batch_alter_table('kr_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kr_milestone_key_result_id'), ['key_result_id'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('drop_reason', sa.Text(), nullable=True),
    sa.Column('key_result_id', sa.Integer(), nullable=True),
    sa.Column('scorecard_item_id', sa.Integer(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_task_assignee_id_user')),
    sa.ForeignKeyConstraint(['creator_id'], ['user.id'], name=op.f('fk_task_creator_id_user')),
    sa.ForeignKeyConstraint(['key_result_id'], ['key_result.id'], name=op.f('fk_task_key_result_id_key_result')),
    sa.ForeignKeyConstraint(['review_id'], ['weekly_review.id'], name=op.f('fk_task_review_id_weekly_review')),
    sa.ForeignKeyConstraint(['scorecard_item_id'], ['scorecard_item.id'], name=op.f('fk_task_scorecard_item_id_scorecard_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_key_result_id'), ['key_result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_scorecard_item_id'), ['scorecard_item_id'], unique=False)

    op.create_table('review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_review_decision_owner_id_user')),
    sa.ForeignKeyConstraint(['review_id'], ['weekly_review.id'], name=op.f('fk_review_decision_review_id_weekly_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_review_decision_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decision'))
    )
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decision_review_id'), ['review_id'], unique=False)

    op.create_table('task_check_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_check_item_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_check_item'))
    )
    with op.batch_alter_table('task_check_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_check_item_task_id'), ['task_id'], unique=False)

    op.add_column('appraisal_cycle', sa.Column('okr_weight', sa.Numeric(precision=6, scale=2), nullable=True))
    if dialect() == "postgresql":
        op.add_column('scorecard_item', sa.Column('key_result_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_scorecard_item_key_result_id_key_result'), 'scorecard_item', 'key_result',
                              ['key_result_id'], ['id'])
    else:
        op.execute("ALTER TABLE scorecard_item ADD COLUMN key_result_id INTEGER "
                   "CONSTRAINT fk_scorecard_item_key_result_id_key_result REFERENCES key_result (id)")
    op.create_index(op.f('ix_scorecard_item_key_result_id'), 'scorecard_item', ['key_result_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_scorecard_item_key_result_id'), table_name='scorecard_item')
    if dialect() == "postgresql":
        op.drop_constraint(op.f('fk_scorecard_item_key_result_id_key_result'), 'scorecard_item', type_='foreignkey')
    op.drop_column('scorecard_item', 'key_result_id')
    op.drop_column('appraisal_cycle', 'okr_weight')

    with op.batch_alter_table('task_check_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_check_item_task_id'))

    op.drop_table('task_check_item')
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decision_review_id'))

    op.drop_table('review_decision')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_scorecard_item_id'))
        batch_op.drop_index(batch_op.f('ix_task_review_id'))
        batch_op.drop_index(batch_op.f('ix_task_key_result_id'))
        batch_op.drop_index('ix_task_assignee_status')

    op.drop_table('task')
    with op.batch_alter_table('kr_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kr_milestone_key_result_id'))

    op.drop_table('kr_milestone')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_key_result_id'))

    op.drop_table('check_in')
    with op.batch_alter_table('key_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_result_parent_kr_id'))
        batch_op.drop_index(batch_op.f('ix_key_result_owner_id'))
        batch_op.drop_index(batch_op.f('ix_key_result_objective_id'))

    op.drop_table('key_result')
    with op.batch_alter_table('comment_mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_mention_person_id'))

    op.drop_table('comment_mention')
    with op.batch_alter_table('weekly_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_review_manager_id'))

    op.drop_table('weekly_review')
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objective_parent_id'))
        batch_op.drop_index(batch_op.f('ix_objective_owner_id'))
        batch_op.drop_index(batch_op.f('ix_objective_department_id'))

    op.drop_table('objective')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_target')

    op.drop_table('comment')
