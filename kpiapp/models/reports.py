"""Signed PDF reports and bulk issue batches (docs/reports.md, migration 0004)."""

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.base import EnumText, UTCDateTime, utcnow


class ReportKind(LabelledEnum):
    scorecard = "scorecard", N_("Scorecard")
    cycle_summary = "cycle_summary", N_("cycle summary")


class BatchStatus(LabelledEnum):
    pending = "pending", N_("waiting for a worker")
    running = "running", N_("issuing reports")
    done = "done", N_("done")
    failed = "failed", N_("failed")


class IssuedReport(db.Model):
    """One signed PDF; append-only (triggers of migration 0004). Superseded is derived."""

    __tablename__ = "issued_report"
    # The row is written once and announced by an explicit 'report.issue' audit event
    # carrying the fields that matter (document id, scorecard version, sha256).
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ReportKind] = mapped_column(EnumText(ReportKind, 20))
    issue_key: Mapped[str] = mapped_column(String(160), unique=True)
    scorecard_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard.id"), index=True)
    scorecard_version: Mapped[int | None] = mapped_column(Integer)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    pdf = deferred(mapped_column(LargeBinary, nullable=False))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    signer_subject: Mapped[str] = mapped_column(String(255))
    issued_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("report_batch.id"))

    scorecard = relationship("Scorecard")
    cycle = relationship("Cycle")
    person = relationship("User", foreign_keys=[person_id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])


class ReportBatch(db.Model):
    """HR's bulk issue of a cycle's reports; progress is polled by the batch page."""

    __tablename__ = "report_batch"
    __audit__ = False  # progress is written often; start and finish are explicit audit events
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    status: Mapped[BatchStatus] = mapped_column(EnumText(BatchStatus, 16), default=BatchStatus.pending)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    report_ids: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    finished_at = mapped_column(UTCDateTime, nullable=True)

    cycle = relationship("Cycle")
    created_by = relationship("User")

    @property
    def is_finished(self):
        return self.status in (BatchStatus.done, BatchStatus.failed)

    @property
    def percent(self):
        if self.status == BatchStatus.done:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
