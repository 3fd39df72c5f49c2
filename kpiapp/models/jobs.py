"""One durable row per background job, whatever its kind (docs/jobs.md, migration 0007)."""
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.models.base import UTCDateTime, utcnow


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class JobRun(db.Model):
    """queued → running → done/failed (reason code + message); a retry goes back to queued.

    `subject_type`/`subject_id` name the object the job works on (an import record, a
    cycle, a report batch); that object keeps its own data status, this row the job's.
    """

    __tablename__ = "job_run"
    __audit__ = False  # heartbeats are written often; the work itself is audited by its service
    __table_args__ = (Index("ix_job_run_subject", "subject_type", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(String(12), default=JobStatus.queued, index=True)
    reason: Mapped[str | None] = mapped_column(String(48))
    message: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rq_id: Mapped[str | None] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at = mapped_column(UTCDateTime, nullable=True)
    finished_at = mapped_column(UTCDateTime, nullable=True)

    actor = relationship("User")

    @property
    def is_finished(self):
        return self.status in (JobStatus.done, JobStatus.failed)
