"""page indexes: user.manager_id, user.department_id, store_owner.person_id

The reporting line is walked downwards (policy.team_ids: WHERE manager_id = ...), "has
reports" is asked on every page (EXISTS manager_id = ...), the cycle pages join people to
their departments and the store filters look owners up by person: without these indexes
each is a scan of every person or owner, so its cost grew with the org (issue 10,
docs/scaling.md "Pages at scale").

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_user_manager_id', 'user', ['manager_id']),
    ('ix_user_department_id', 'user', ['department_id']),
    ('ix_store_owner_person_id', 'store_owner', ['person_id']),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
