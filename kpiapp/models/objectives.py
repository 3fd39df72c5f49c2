"""Objectives, key results, check-ins, tasks, comments and weekly reviews
(docs/objectives.md, migration 0019)."""
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.appraisal import VALUE
from kpiapp.models.base import EnumText, UTCDateTime, utcnow
from kpiapp.objectives.task_flow import TaskStatus

PERCENT = Numeric(7, 2)


class ObjectiveLevel(LabelledEnum):
    company = "company", N_("Company")
    department = "department", N_("Department")
    team = "team", N_("Team")
    person = "person", N_("Person")


class PeriodKind(LabelledEnum):
    year = "year", N_("Year")
    quarter = "quarter", N_("Quarter")
    month = "month", N_("Month")


class ObjectiveStatus(LabelledEnum):
    active = "active", N_("Active")
    closed = "closed", N_("Closed")
    cancelled = "cancelled", N_("Cancelled")


class KrKind(LabelledEnum):
    metric = "metric", N_("from data")
    manual = "manual", N_("a number updated by check-ins")
    milestone = "milestone", N_("a checklist of milestones")


class Confidence(LabelledEnum):
    on_track = "on_track", N_("On track")
    at_risk = "at_risk", N_("At risk")
    off_track = "off_track", N_("Off track")


class Objective(db.Model):
    """A goal for a period, owned by a person, in the cascade company → department → team → person."""

    __tablename__ = "objective"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    level: Mapped[ObjectiveLevel] = mapped_column(EnumText(ObjectiveLevel, 16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("objective.id"), index=True)
    period_kind: Mapped[PeriodKind] = mapped_column(EnumText(PeriodKind, 16))
    period_start = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    weight = mapped_column(Numeric(6, 2), nullable=False, default=1)  # its share in the parent's roll-up
    rollup: Mapped[bool] = mapped_column(Boolean, default=False)  # progress from child objectives
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[ObjectiveStatus] = mapped_column(EnumText(ObjectiveStatus, 16), default=ObjectiveStatus.active)
    progress = mapped_column(PERCENT, nullable=True)  # last computed (progress.py)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship("User", foreign_keys=[owner_id])
    department = relationship("Department")
    parent = relationship("Objective", remote_side=[id], back_populates="children")
    children = relationship("Objective", back_populates="parent", order_by="Objective.id")
    key_results = relationship("KeyResult", back_populates="objective", order_by="KeyResult.seq",
                               cascade="all, delete-orphan")


class KeyResult(db.Model):
    """A measurable result under an objective: from data (like a KPI item), a number updated by
    check-ins, or a milestone checklist. `parent_kr_id`: the target it was decomposed from."""

    __tablename__ = "key_result"
    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objective.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[KrKind] = mapped_column(EnumText(KrKind, 16))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    metric_key: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[list | None] = mapped_column(JSON)  # [{"store_id", "share_pct"}] as KPI items
    sku: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(16))  # manual KRs: money | count | percent | ...
    start_value = mapped_column(VALUE, nullable=True)
    target = mapped_column(VALUE, nullable=True)
    current = mapped_column(VALUE, nullable=True)
    progress = mapped_column(PERCENT, nullable=True)
    confidence: Mapped[Confidence | None] = mapped_column(EnumText(Confidence, 16))
    weight = mapped_column(Numeric(6, 2), nullable=False, default=1)
    data_as_of = mapped_column(UTCDateTime, nullable=True)
    provenance: Mapped[dict | None] = mapped_column(JSON)
    parent_kr_id: Mapped[int | None] = mapped_column(ForeignKey("key_result.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    objective = relationship("Objective", back_populates="key_results")
    owner = relationship("User")
    parent_kr = relationship("KeyResult", remote_side=[id], back_populates="children")
    children = relationship("KeyResult", back_populates="parent_kr", order_by="KeyResult.id")
    milestones = relationship("Milestone", back_populates="key_result", order_by="Milestone.seq",
                              cascade="all, delete-orphan")
    check_ins = relationship("CheckIn", back_populates="key_result", order_by="CheckIn.id",
                             cascade="all, delete-orphan")


class Milestone(db.Model):
    __tablename__ = "kr_milestone"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_result_id: Mapped[int] = mapped_column(ForeignKey("key_result.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at = mapped_column(UTCDateTime, nullable=True)
    key_result = relationship("KeyResult", back_populates="milestones")


class CheckIn(db.Model):
    """A weekly update on a key result: a value (manual KRs), a confidence and a note; kept as history."""

    __tablename__ = "check_in"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_result_id: Mapped[int] = mapped_column(ForeignKey("key_result.id", ondelete="CASCADE"), index=True)
    week = mapped_column(Date, nullable=False)  # the Monday of the week it is for
    value = mapped_column(VALUE, nullable=True)
    confidence: Mapped[Confidence] = mapped_column(EnumText(Confidence, 16))
    note: Mapped[str | None] = mapped_column(Text)
    private_note: Mapped[str | None] = mapped_column(Text)  # the author, their managers and HR only
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    key_result = relationship("KeyResult", back_populates="check_ins")
    author = relationship("User")


class Task(db.Model):
    """A piece of work, linked to a key result, a KPI item or a weekly review (or nothing)."""

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_assignee_status", "assignee_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due = mapped_column(Date, nullable=True)
    status: Mapped[TaskStatus] = mapped_column(EnumText(TaskStatus, 16), default=TaskStatus.OPEN)
    drop_reason: Mapped[str | None] = mapped_column(Text)
    key_result_id: Mapped[int | None] = mapped_column(ForeignKey("key_result.id"), index=True)
    scorecard_item_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard_item.id"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("weekly_review.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    done_at = mapped_column(UTCDateTime, nullable=True)

    assignee = relationship("User", foreign_keys=[assignee_id])
    creator = relationship("User", foreign_keys=[creator_id])
    key_result = relationship("KeyResult")
    scorecard_item = relationship("ScorecardItem")
    review = relationship("WeeklyReview", foreign_keys=[review_id])
    checklist = relationship("TaskCheckItem", back_populates="task", order_by="TaskCheckItem.seq",
                             cascade="all, delete-orphan")


class TaskCheckItem(db.Model):
    __tablename__ = "task_check_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(200))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    task = relationship("Task", back_populates="checklist")


class CommentTarget(LabelledEnum):
    scorecard = "scorecard", N_("scorecard")
    item = "item", N_("KPI item")
    key_result = "key_result", N_("key result")
    task = "task", N_("task")
    dispute = "dispute", N_("dispute")


class Comment(db.Model):
    """A comment on a scorecard, KPI item, key result, task or dispute; visible to whoever may
    see its target. Mentions notify the people named."""

    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_target", "target_kind", "target_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[CommentTarget] = mapped_column(EnumText(CommentTarget, 16))
    target_id: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    author = relationship("User")
    mentions = relationship("CommentMention", cascade="all, delete-orphan")


class CommentMention(db.Model):
    __tablename__ = "comment_mention"
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    person = relationship("User")


class WeeklyReview(db.Model):
    """A team's weekly review (周会复盘): the people below `manager_id`, one ISO week.
    Closing it freezes `snapshot` (the numbers as of the meeting)."""

    __tablename__ = "weekly_review"
    __table_args__ = (UniqueConstraint("manager_id", "week"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    week = mapped_column(Date, nullable=False)  # the Monday
    notes: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    manager = relationship("User", foreign_keys=[manager_id])
    decisions = relationship("ReviewDecision", back_populates="review", order_by="ReviewDecision.id",
                             cascade="all, delete-orphan")


class ReviewDecision(db.Model):
    __tablename__ = "review_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("weekly_review.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)

    review = relationship("WeeklyReview", back_populates="decisions")
    owner = relationship("User")
    task = relationship("Task", foreign_keys=[task_id])
