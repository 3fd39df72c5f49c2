"""fact_stage: scratch rows of a large import while it runs (issue 10: bounded memory)

See docs/scaling.md, "Bounded memory". The parser spills its facts here instead of holding
them all; the import groups them in SQL and deletes them when it commits or fails. On
PostgreSQL the table is UNLOGGED: its rows never outlive the import, so they need no WAL.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fact_stage',
    sa.Column('import_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stage', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
              nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('measure', sa.Text(), nullable=False),
    sa.Column('value', sa.Numeric(), nullable=False),
    sa.Column('currency', sa.Text(), nullable=True),
    sa.Column('sku', sa.Text(), nullable=False),
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('store_code', sa.Text(), nullable=False),
    sa.Column('once', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('import_id', 'stage', 'seq', name=op.f('pk_fact_stage'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE fact_stage SET UNLOGGED')


def downgrade():
    op.drop_table('fact_stage')
