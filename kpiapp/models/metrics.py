"""Metric definitions (指标口径), imports, metric facts and FX rates (docs/imports.md)."""
from decimal import Decimal

from sqlalchemy import (JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, Numeric,
                        String, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.base import EnumText, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class MetricDefinition(db.Model):
    """One version of a metric definition; scorecards reference key + version."""

    __tablename__ = "metric_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(48), index=True)
    version: Mapped[int] = mapped_column(default=1)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    formula: Mapped[str] = mapped_column(String(500))
    includes_en: Mapped[str] = mapped_column(Text, default="")
    includes_zh: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(default=False)
    is_current: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)


class ImportKind(LabelledEnum):
    facts = "facts", N_("Report data")
    fx = "fx", N_("FX rates")


class ImportStatus(LabelledEnum):
    pending = "pending", N_("waiting for a worker")
    running = "running", N_("importing")
    committed = "committed", N_("imported")
    failed = "failed", N_("failed, nothing was imported")


# Committed is final; anything else may (re)start, because RQ runs a job at least once.
TRANSITIONS = {
    ImportStatus.pending: {ImportStatus.running, ImportStatus.failed},
    ImportStatus.running: {ImportStatus.running, ImportStatus.committed, ImportStatus.failed},
    ImportStatus.failed: {ImportStatus.running, ImportStatus.failed},
    ImportStatus.committed: set(),
}


class ImportRecord(db.Model):
    __tablename__ = "import_record"
    __table_args__ = (
        Index("uq_import_record_dedupe_live", "dedupe_key", unique=True,
              sqlite_where=text("status <> 'failed'"), postgresql_where=text("status <> 'failed'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(EnumText(ImportKind, 8), default=ImportKind.facts)
    parser: Mapped[str | None] = mapped_column(String(48))
    family: Mapped[str | None] = mapped_column(String(48))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigId)
    date_from = mapped_column(Date, nullable=True)
    date_to = mapped_column(Date, nullable=True)
    allow_partial: Mapped[bool] = mapped_column(default=False)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[ImportStatus] = mapped_column(EnumText(ImportStatus, 12), default=ImportStatus.pending,
                                                 index=True)
    rows_read: Mapped[int] = mapped_column(default=0)
    facts_written: Mapped[int] = mapped_column(default=0)
    facts_replaced: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list | None] = mapped_column(JSON)
    warnings: Mapped[list | None] = mapped_column(JSON)  # columns not read, measures missing, rows skipped
    error_code: Mapped[str | None] = mapped_column(String(48))
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[int] = mapped_column(default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime, nullable=True)
    finished_at = mapped_column(UTCDateTime, nullable=True)
    # the footprint of the facts it wrote, set with 'committed' (migration 0042): their store ids,
    # first business date, last period end; None for FX and for imports committed before 0042
    facts_stores: Mapped[list | None] = mapped_column(JSON)
    facts_from = mapped_column(Date, nullable=True)
    facts_to = mapped_column(Date, nullable=True)

    store = relationship("Store")
    uploaded_by = relationship("User")

    @property
    def is_finished(self):
        return self.status in (ImportStatus.committed, ImportStatus.failed)

    def can_move_to(self, status):
        return status in TRANSITIONS[ImportStatus(self.status)]


class ImportFile(db.Model):
    """The uploaded bytes, stored under the import id (never under the user's filename)."""

    __tablename__ = "import_file"
    __audit__ = False
    import_id: Mapped[int] = mapped_column(ForeignKey("import_record.id", ondelete="CASCADE"),
                                           primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


RANGE_FACT = "business_date <> period_end"


class MetricFact(db.Model):
    """One base-measure value; written only by Core upserts (bulk, not audited row by row).

    store_id and import_id are foreign keys on SQLite; on PostgreSQL they are checked once per
    statement by triggers instead (migration 0026, metrics/fact_refs.py), same guarantee.
    """

    __tablename__ = "metric_fact"
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("store_id", "family", "business_date", "period_end", "sku", "ref", "measure",
                         name="uq_metric_fact_natural_key"),
        Index("ix_metric_fact_store_measure_date", "store_id", "measure", "business_date"),
        # the range facts only (a week's or a month's report): the overlap check of an import of
        # daily facts reads these, not every daily fact of its days' months (migration 0035)
        Index("ix_metric_fact_ranges", "store_id", "family", "business_date",
              postgresql_where=text(RANGE_FACT), sqlite_where=text(RANGE_FACT)),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    family: Mapped[str] = mapped_column(String(48))
    business_date = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    sku: Mapped[str] = mapped_column(String(64), default="")
    ref: Mapped[str] = mapped_column(String(128), default="")
    measure: Mapped[str] = mapped_column(String(48))
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    currency: Mapped[str | None] = mapped_column(String(3))
    import_id: Mapped[int] = mapped_column(ForeignKey("import_record.id"), index=True)
    source_line: Mapped[int] = mapped_column(default=0)


class FactDay(db.Model):
    """The facts a metric counts, pre-summed by `fact_groups`' key (issue 10, docs/scaling.md "fact_day").

    One row per (store, family, measure, business_date, period_end, currency) of metric_fact:
    `total` and `facts` sum the facts `fact_filter` keeps (a SKU row under a total row of its
    store, family, day, period end, ref and measure left out), `import_ids` lists their imports
    ("3,7"), `all_facts` counts every fact of the key (the partly-outside note counts those).
    A derived table: each write of facts replaces the day sums of the slice it wrote in the same
    transaction (kpiapp/metrics/fact_day.py); `kpi rebuild-fact-day` makes it again from the facts.
    """

    __tablename__ = "fact_day"
    __audit__ = False
    __table_args__ = (
        Index("ix_fact_day_store_measure_date", "store_id", "measure", "business_date"),
        Index("ix_fact_day_store_family_date", "store_id", "family", "business_date"),
        # the few range rows (monthly reports): the partly-outside count reads only these
        Index("ix_fact_day_ranges", "store_id", "measure", "business_date",
              postgresql_where=text("business_date <> period_end"),
              sqlite_where=text("business_date <> period_end")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    family: Mapped[str] = mapped_column(String(48))
    measure: Mapped[str] = mapped_column(String(48))
    business_date = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Numeric(28, 6))  # NULL when no fact of the key counts
    facts: Mapped[int] = mapped_column(Integer)
    all_facts: Mapped[int] = mapped_column(Integer)
    import_ids: Mapped[str | None] = mapped_column(Text)


class FactPick(db.Model):
    """fact_day's one-day groups that a dashboard counts, summed by (store, measure, day, currency)
    (issue 10, docs/dashboards.md "The picked rows kept").

    On each (store, measure, business date), only the groups of the family that ranks first in
    FAMILY_PRIORITY among that day's one-day groups with facts are kept (`pick_families`' rule
    as the company dashboard's window applies it); `total` sums their totals in their own
    currency and `group_count` counts them. Multi-day groups (monthly reports) are not here: a
    reader takes them from fact_day. A derived table of fact_day: whoever replaces a slice of
    fact_day replaces the same stores and days here in the same transaction
    (kpiapp/metrics/fact_pick.py); FX rates are applied by the reader.
    """

    __tablename__ = "fact_pick"
    __audit__ = False
    __table_args__ = (
        # covering (PostgreSQL): the company dashboard's statements read fact_pick index-only (0031)
        Index("ix_fact_pick_store_date", "store_id", "business_date",
              postgresql_include=["measure", "currency", "total", "group_count"]),
        Index("ix_fact_pick_measure_date", "measure", "business_date",
              postgresql_include=["store_id", "currency", "total", "group_count"]),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    measure: Mapped[str] = mapped_column(String(48))
    business_date = mapped_column(Date, nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(28, 6))
    group_count: Mapped[int] = mapped_column(Integer)


class FactMonth(db.Model):
    """fact_pick's rows summed by (store, measure, month) in the base currency (issue 10,
    docs/dashboards.md "The months kept").

    `total` = Σ over the month's fact_pick rows of the total converted as the company panels
    convert it (money in another currency times the rate of its business date; a row without
    its rate adds nothing), `group_count` the groups those rows stand for and `missing` the
    groups without their rate; `base` the currency they were converted to. Derived from
    fact_pick and fx_rate: whoever replaces fact_pick's rows of some stores and days rewrites
    their months here in the same transaction, and a rate written for a month marks the month
    (`FactMonthStale`, by trigger) until it is rewritten (kpiapp/metrics/fact_month.py).
    """

    __tablename__ = "fact_month"
    __audit__ = False
    __table_args__ = (Index("ix_fact_month_store_month", "store_id", "month"),)
    measure: Mapped[str] = mapped_column(String(48), primary_key=True)
    month = mapped_column(Date, primary_key=True)  # its first day
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), primary_key=True)
    base: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Numeric)  # unbounded: Σ total × rate, exact
    group_count: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)


class FactPickDay(db.Model):
    """fact_pick's rows summed across stores by (measure, business date, currency), in their own
    currency: the company dashboard's trend lines (issue 10, docs/dashboards.md "The days kept").

    Kept by deltas, never by updates, so writers of different stores never wait for each other
    on a shared row: whoever replaces fact_pick's rows of some stores and days appends the
    replaced rows' sums negated and the new rows' sums (kpiapp/metrics/fact_pick_day.py), then
    folds each key's rows into one (`compact`, skipping rows another writer holds). So several
    rows may share a key; a reader sums them. A key whose rows add up to no group is no row.
    """

    __tablename__ = "fact_pick_day"
    __audit__ = False
    __table_args__ = (
        Index("ix_fact_pick_day_measure_date", "measure", "business_date",
              postgresql_include=["currency", "total", "group_count"]),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    measure: Mapped[str] = mapped_column(String(48))
    business_date = mapped_column(Date, nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric)  # unbounded: a sum of fact_pick totals, exact
    group_count: Mapped[int] = mapped_column(Integer)


class FactMonthStale(db.Model):
    """Months of fact_month that a rate written since no longer matches (a trigger on fx_rate
    inserts them; `fact_month.refresh_rates` rewrites the months and deletes them). A reader
    takes a marked month from fact_pick."""

    __tablename__ = "fact_month_stale"
    __audit__ = False
    month = mapped_column(Date, primary_key=True)
    marks: Mapped[int] = mapped_column(Integer)


class FactStage(db.Model):
    """Scratch rows of one large import while it runs (issue 10, docs/scaling.md "Bounded memory").

    The parser spills its facts here (stage 0, unsummed, in the order they came: seq), the
    import groups them into stage 1 (one row per natural key) and writes metric_fact from
    those; the rows are deleted when the import commits or fails. No foreign keys: nothing
    else reads them, and attaching a month partition must not wait for them. Text columns
    without a length: a cell too long for metric_fact fails there, as before, not here.
    """

    __tablename__ = "fact_stage"
    __audit__ = False
    import_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    line: Mapped[int] = mapped_column(Integer)
    business_date = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=True)
    measure: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal] = mapped_column(Numeric)
    currency: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(Text)
    store_code: Mapped[str] = mapped_column(Text)
    once: Mapped[bool] = mapped_column(Boolean)  # a second fact on the key is a duplicate_row


class FxRate(db.Model):
    __tablename__ = "fx_rate"
    __audit__ = False
    __table_args__ = (UniqueConstraint("date", "currency"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    date = mapped_column(Date, nullable=False)
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_record.id"))
