"""signed PDF reports: issued_report (append-only) and report_batch

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

See docs/reports.md. issued_report rows are never updated or deleted (triggers on
both databases); superseded status is derived, so nothing needs to change a row.
"""
import sqlalchemy as sa
from alembic import op

from kpiapp.dbtriggers import create_append_only, drop_append_only

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('report_ids', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('job_id', sa.String(length=64), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'],
                                name=op.f('fk_report_batch_cycle_id_appraisal_cycle')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                                name=op.f('fk_report_batch_created_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_batch')),
    )
    op.create_index(op.f('ix_report_batch_cycle_id'), 'report_batch', ['cycle_id'], unique=False)

    op.create_table(
        'issued_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('issue_key', sa.String(length=160), nullable=False),
        sa.Column('scorecard_id', sa.Integer(), nullable=True),
        sa.Column('scorecard_version', sa.Integer(), nullable=True),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('signer_subject', sa.String(length=255), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['scorecard_id'], ['scorecard.id'],
                                name=op.f('fk_issued_report_scorecard_id_scorecard')),
        sa.ForeignKeyConstraint(['cycle_id'], ['appraisal_cycle.id'],
                                name=op.f('fk_issued_report_cycle_id_appraisal_cycle')),
        sa.ForeignKeyConstraint(['person_id'], ['user.id'], name=op.f('fk_issued_report_person_id_user')),
        sa.ForeignKeyConstraint(['issued_by_id'], ['user.id'],
                                name=op.f('fk_issued_report_issued_by_id_user')),
        sa.ForeignKeyConstraint(['batch_id'], ['report_batch.id'],
                                name=op.f('fk_issued_report_batch_id_report_batch')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_report')),
        sa.UniqueConstraint('document_id', name=op.f('uq_issued_report_document_id')),
        sa.UniqueConstraint('issue_key', name=op.f('uq_issued_report_issue_key')),
    )
    op.create_index(op.f('ix_issued_report_scorecard_id'), 'issued_report', ['scorecard_id'], unique=False)
    op.create_index(op.f('ix_issued_report_cycle_id'), 'issued_report', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_issued_report_person_id'), 'issued_report', ['person_id'], unique=False)
    create_append_only('issued_report')


def downgrade():
    drop_append_only('issued_report')
    op.drop_index(op.f('ix_issued_report_person_id'), table_name='issued_report')
    op.drop_index(op.f('ix_issued_report_cycle_id'), table_name='issued_report')
    op.drop_index(op.f('ix_issued_report_scorecard_id'), table_name='issued_report')
    op.drop_table('issued_report')
    op.drop_index(op.f('ix_report_batch_cycle_id'), table_name='report_batch')
    op.drop_table('report_batch')
