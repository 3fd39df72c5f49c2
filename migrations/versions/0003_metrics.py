"""metric definitions, imports, metric facts, FX rates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Seeds the built-in metric definitions (catalog.BUILTIN_METRICS) as version 1.
See docs/imports.md for the model.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    definitions = op.create_table(
        'metric_definition',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=48), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name_en', sa.String(length=120), nullable=False),
        sa.Column('name_zh', sa.String(length=120), nullable=False),
        sa.Column('unit', sa.String(length=16), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('formula', sa.String(length=500), nullable=False),
        sa.Column('includes_en', sa.Text(), nullable=False),
        sa.Column('includes_zh', sa.Text(), nullable=False),
        sa.Column('builtin', sa.Boolean(), nullable=False),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                                name=op.f('fk_metric_definition_created_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_definition')),
        sa.UniqueConstraint('key', 'version', name=op.f('uq_metric_definition_key_version')),
    )
    op.create_index(op.f('ix_metric_definition_key'), 'metric_definition', ['key'], unique=False)

    op.create_table(
        'import_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('parser', sa.String(length=48), nullable=True),
        sa.Column('family', sa.String(length=48), nullable=True),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', BIG_ID, nullable=False),
        sa.Column('date_from', sa.Date(), nullable=True),
        sa.Column('date_to', sa.Date(), nullable=True),
        sa.Column('allow_partial', sa.Boolean(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('rows_read', sa.Integer(), nullable=False),
        sa.Column('facts_written', sa.Integer(), nullable=False),
        sa.Column('facts_replaced', sa.Integer(), nullable=False),
        sa.Column('rows_rejected', sa.Integer(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=True),
        sa.Column('error_code', sa.String(length=48), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('job_id', sa.String(length=64), nullable=True),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_import_record_store_id_store')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'],
                                name=op.f('fk_import_record_uploaded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_record')),
    )
    op.create_index(op.f('ix_import_record_store_id'), 'import_record', ['store_id'], unique=False)
    op.create_index(op.f('ix_import_record_sha256'), 'import_record', ['sha256'], unique=False)
    op.create_index(op.f('ix_import_record_status'), 'import_record', ['status'], unique=False)
    op.create_index('uq_import_record_dedupe_live', 'import_record', ['dedupe_key'], unique=True,
                    sqlite_where=sa.text("status <> 'failed'"),
                    postgresql_where=sa.text("status <> 'failed'"))

    op.create_table(
        'import_file',
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['import_record.id'],
                                name=op.f('fk_import_file_import_id_import_record'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', name=op.f('pk_import_file')),
    )

    op.create_table(
        'metric_fact',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('family', sa.String(length=48), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('ref', sa.String(length=128), nullable=False),
        sa.Column('measure', sa.String(length=48), nullable=False),
        sa.Column('value', sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('source_line', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['import_record.id'],
                                name=op.f('fk_metric_fact_import_id_import_record')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_metric_fact_store_id_store')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_fact')),
        sa.UniqueConstraint('store_id', 'family', 'business_date', 'period_end', 'sku', 'ref', 'measure',
                            name='uq_metric_fact_natural_key'),
    )
    op.create_index('ix_metric_fact_store_measure_date', 'metric_fact',
                    ['store_id', 'measure', 'business_date'], unique=False)
    op.create_index(op.f('ix_metric_fact_import_id'), 'metric_fact', ['import_id'], unique=False)

    op.create_table(
        'fx_rate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('rate', sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['import_id'], ['import_record.id'],
                                name=op.f('fk_fx_rate_import_id_import_record')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fx_rate')),
        sa.UniqueConstraint('date', 'currency', name=op.f('uq_fx_rate_date_currency')),
    )
    seed_builtin_definitions(definitions)


def seed_builtin_definitions(table):
    from kpiapp.metrics.catalog import BUILTIN_METRICS

    now = datetime.now(timezone.utc)
    op.bulk_insert(table, [
        {"key": m.key, "version": m.version, "name_en": m.name_en, "name_zh": m.name_zh, "unit": m.unit,
         "direction": str(m.direction), "formula": m.formula, "includes_en": m.includes_en,
         "includes_zh": m.includes_zh, "builtin": True, "is_current": True, "created_by_id": None,
         "created_at": now}
        for m in BUILTIN_METRICS
    ])


def downgrade():
    op.drop_table('fx_rate')
    op.drop_index(op.f('ix_metric_fact_import_id'), table_name='metric_fact')
    op.drop_index('ix_metric_fact_store_measure_date', table_name='metric_fact')
    op.drop_table('metric_fact')
    op.drop_table('import_file')
    op.drop_index('uq_import_record_dedupe_live', table_name='import_record')
    op.drop_index(op.f('ix_import_record_status'), table_name='import_record')
    op.drop_index(op.f('ix_import_record_sha256'), table_name='import_record')
    op.drop_index(op.f('ix_import_record_store_id'), table_name='import_record')
    op.drop_table('import_record')
    op.drop_index(op.f('ix_metric_definition_key'), table_name='metric_definition')
    op.drop_table('metric_definition')
