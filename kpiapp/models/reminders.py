"""What reminder was sent to whom, when (docs/reminders.md): the log the rules read so a second
run on the same day sends nothing, and cycle health shows. Bookkeeping for notifications, not a
decision: not row-audited (like Notification and PaceAlert); each run writes one explicit audit
event per cycle instead."""
from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.base import EnumText, UTCDateTime, utcnow


class ReminderKind(LabelledEnum):
    before = "before", N_("before the deadline")
    due = "due", N_("on the day")
    overdue = "overdue", N_("overdue")
    escalation = "escalation", N_("escalated to the manager")
    digest = "digest", N_("weekly digest")


class ReminderLog(db.Model):
    """One line per (person it is about, recipient) of a reminder; the lines of one message share
    its notification. Unique per (cycle, stage, person, recipient, day)."""

    __tablename__ = "reminder_log"
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("cycle_id", "stage", "person_id", "recipient_id", "day", name="uq_reminder_log_day"),
        Index("ix_reminder_log_cycle_sent", "cycle_id", "sent_at"),
        Index("ix_reminder_log_recipient_day", "recipient_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20))  # targets, approval, ..., appeal, dispute, at_risk
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))  # whose step
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[ReminderKind] = mapped_column(EnumText(ReminderKind, 16))
    day = mapped_column(Date, nullable=False)  # the day it was for (--today when pretended)
    due = mapped_column(Date, nullable=True)  # the deadline it reminded of
    scorecard_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard.id", ondelete="SET NULL"))
    notification_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("notification.id", ondelete="SET NULL"))
    sent_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    person = relationship("User", foreign_keys=[person_id])
    recipient = relationship("User", foreign_keys=[recipient_id])
    notification = relationship("Notification")
