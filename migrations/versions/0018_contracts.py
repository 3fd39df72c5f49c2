"""contracts: agency KPI contracts, versioned terms, contract reports, client invites

See docs/contracts.md. contract_document rows (signed PDFs) are never updated or deleted
(triggers, as issued_report). store.client_company_id is added with a plain ALTER TABLE
(a batch copy of `store` fails on SQLite once facts refer to it); SQLite takes the
foreign key in the ADD COLUMN clause.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa

from kpiapp.dbtriggers import create_append_only, dialect, drop_append_only


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_company_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_company_id'], ['client_company.id'], name=op.f('fk_client_invite_client_company_id_client_company')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_client_invite_invited_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_client_invite_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_invite')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_client_invite_token_hash'))
    )
    with op.batch_alter_table('client_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_invite_client_company_id'), ['client_company_id'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('client_company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_company_id'], ['client_company.id'], name=op.f('fk_contract_client_company_id_client_company')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contract_created_by_id_user')),
    sa.ForeignKeyConstraint(['lead_id'], ['user.id'], name=op.f('fk_contract_lead_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('code', name=op.f('uq_contract_code'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_client_company_id'), ['client_company_id'], unique=False)

    op.create_table('contract_member',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_member_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_contract_member_person_id_user')),
    sa.PrimaryKeyConstraint('contract_id', 'person_id', name=op.f('pk_contract_member'))
    )
    with op.batch_alter_table('contract_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_member_person_id'), ['person_id'], unique=False)

    op.create_table('contract_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('base_fee', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('fee_currency', sa.String(length=3), nullable=False),
    sa.Column('commission_pct', sa.Numeric(precision=7, scale=3), nullable=True),
    sa.Column('commission_metric', sa.String(length=64), nullable=True),
    sa.Column('fee_bands', sa.JSON(), nullable=False),
    sa.Column('bonus_threshold', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('bonus_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_version_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contract_version_created_by_id_user')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_contract_version_decided_by_id_user')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_contract_version_proposed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_version')),
    sa.UniqueConstraint('contract_id', 'number', name=op.f('uq_contract_version_contract_id_number'))
    )
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_version_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_clause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('store_ids', sa.JSON(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=True),
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
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], name=op.f('fk_contract_clause_version_id_contract_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_clause'))
    )
    with op.batch_alter_table('contract_clause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_clause_version_id'), ['version_id'], unique=False)

    op.create_table('contract_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_report_contract_id_contract')),
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], name=op.f('fk_contract_report_version_id_contract_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_report')),
    sa.UniqueConstraint('contract_id', 'period_start', name=op.f('uq_contract_report_contract_id_period_start'))
    )
    with op.batch_alter_table('contract_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_report_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_report_state'), ['state'], unique=False)

    op.create_table('contract_version_store',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_contract_version_store_store_id_store')),
    sa.ForeignKeyConstraint(['version_id'], ['contract_version.id'], name=op.f('fk_contract_version_store_version_id_contract_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'store_id', name=op.f('pk_contract_version_store'))
    )
    with op.batch_alter_table('contract_version_store', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_version_store_store_id'), ['store_id'], unique=False)

    op.create_table('contract_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signer_subject', sa.String(length=255), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['user.id'], name=op.f('fk_contract_document_accepted_by_id_user')),
    sa.ForeignKeyConstraint(['report_id'], ['contract_report.id'], name=op.f('fk_contract_document_report_id_contract_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_document')),
    sa.UniqueConstraint('document_id', name=op.f('uq_contract_document_document_id'))
    )
    with op.batch_alter_table('contract_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_document_report_id'), ['report_id'], unique=False)

    op.create_table('contract_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('clause_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clause_id'], ['contract_clause.id'], name=op.f('fk_contract_override_clause_id_contract_clause')),
    sa.ForeignKeyConstraint(['report_id'], ['contract_report.id'], name=op.f('fk_contract_override_report_id_contract_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['user.id'], name=op.f('fk_contract_override_set_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_override')),
    sa.UniqueConstraint('report_id', 'clause_id', name=op.f('uq_contract_override_report_id_clause_id'))
    )
    with op.batch_alter_table('contract_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_override_report_id'), ['report_id'], unique=False)

    op.create_table('contract_report_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('clause_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_account', sa.String(length=254), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_contract_report_event_actor_id_user')),
    sa.ForeignKeyConstraint(['clause_id'], ['contract_clause.id'], name=op.f('fk_contract_report_event_clause_id_contract_clause')),
    sa.ForeignKeyConstraint(['report_id'], ['contract_report.id'], name=op.f('fk_contract_report_event_report_id_contract_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_report_event'))
    )
    with op.batch_alter_table('contract_report_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_report_event_report_id'), ['report_id'], unique=False)

    op.create_table('contract_report_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('score', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('fee', sa.JSON(), nullable=True),
    sa.Column('fee_total', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('data_as_of', sa.Date(), nullable=True),
    sa.Column('internal_note', sa.Text(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_contract_report_revision_created_by_id_user')),
    sa.ForeignKeyConstraint(['report_id'], ['contract_report.id'], name=op.f('fk_contract_report_revision_report_id_contract_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_contract_report_revision_sent_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_report_revision')),
    sa.UniqueConstraint('report_id', 'number', name=op.f('uq_contract_report_revision_report_id_number'))
    )
    with op.batch_alter_table('contract_report_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_report_revision_report_id'), ['report_id'], unique=False)

    if dialect() == "postgresql":
        op.add_column('store', sa.Column('client_company_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_store_client_company_id_client_company'), 'store', 'client_company',
                              ['client_company_id'], ['id'])
    else:  # SQLite adds a column with its REFERENCES clause in place
        op.execute("ALTER TABLE store ADD COLUMN client_company_id INTEGER "
                   "CONSTRAINT fk_store_client_company_id_client_company REFERENCES client_company (id)")
    op.create_index(op.f('ix_store_client_company_id'), 'store', ['client_company_id'], unique=False)
    create_append_only("contract_document")


def downgrade():
    drop_append_only("contract_document")
    if dialect() == "postgresql":
        op.drop_constraint(op.f('fk_store_client_company_id_client_company'), 'store', type_='foreignkey')
    op.drop_index(op.f('ix_store_client_company_id'), table_name='store')
    op.drop_column('store', 'client_company_id')

    with op.batch_alter_table('contract_report_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_report_revision_report_id'))

    op.drop_table('contract_report_revision')
    with op.batch_alter_table('contract_report_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_report_event_report_id'))

    op.drop_table('contract_report_event')
    with op.batch_alter_table('contract_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_override_report_id'))

    op.drop_table('contract_override')
    with op.batch_alter_table('contract_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_document_report_id'))

    op.drop_table('contract_document')
    with op.batch_alter_table('contract_version_store', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_version_store_store_id'))

    op.drop_table('contract_version_store')
    with op.batch_alter_table('contract_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_report_state'))
        batch_op.drop_index(batch_op.f('ix_contract_report_contract_id'))

    op.drop_table('contract_report')
    with op.batch_alter_table('contract_clause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_clause_version_id'))

    op.drop_table('contract_clause')
    with op.batch_alter_table('contract_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_version_contract_id'))

    op.drop_table('contract_version')
    with op.batch_alter_table('contract_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_member_person_id'))

    op.drop_table('contract_member')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_client_company_id'))

    op.drop_table('contract')
    with op.batch_alter_table('client_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_invite_client_company_id'))

    op.drop_table('client_invite')
