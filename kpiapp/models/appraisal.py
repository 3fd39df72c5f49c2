"""Appraisal cycle: KPI templates, cycles, scorecards and their history (docs/appraisal.md)."""
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, Column, Computed, Date, ForeignKey, Index, Integer, Numeric, String,
                        Text, UniqueConstraint, column, text, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.appraisal.appeal_flow import AppealState
from kpiapp.appraisal.workflow import Action, ScorecardState
from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.base import EnumText, UTCDateTime, utcnow

POINTS = Numeric(7, 2)
VALUE = Numeric(20, 6)


class ItemKind(LabelledEnum):
    metric = "metric", N_("from data")
    manual = "manual", N_("manual")
    okr = "okr", N_("OKR attainment")  # added by the cycle's okr_weight (docs/objectives.md)


class ItemTag(StrEnum):
    result = "result"
    process = "process"


class CycleKind(LabelledEnum):
    monthly = "monthly", N_("monthly")
    quarterly = "quarterly", N_("quarterly")


class CycleStatus(LabelledEnum):
    draft = "draft", N_("Not started")
    running = "running", N_("Running")
    closed = "closed", N_("Closed")


class ParticipantKind(StrEnum):
    department = "department"
    position = "position"
    person = "person"


class ChangeStatus(LabelledEnum):
    pending = "pending", N_("pending")
    approved = "approved", N_("approved")
    rejected = "rejected", N_("rejected")


class ItemFields:
    """Columns shared by template items and scorecard items."""

    seq: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[ItemKind] = mapped_column(EnumText(ItemKind, 16))
    metric_key: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[ItemTag] = mapped_column(String(16), default=ItemTag.result)
    weight = mapped_column(Numeric(6, 2), nullable=False)
    target = mapped_column(VALUE, nullable=True)
    threshold = mapped_column(VALUE, nullable=True)
    stretch = mapped_column(VALUE, nullable=True)
    # ScoringRule.to_dict() minus target/threshold/stretch, which live in the columns above
    rule: Mapped[dict] = mapped_column(JSON)


class KpiTemplate(db.Model):
    __tablename__ = "kpi_template"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str | None] = mapped_column(Text)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    position = relationship("Position")
    items = relationship("KpiTemplateItem", back_populates="template", order_by="KpiTemplateItem.seq",
                         cascade="all, delete-orphan")


class KpiTemplateItem(ItemFields, db.Model):
    __tablename__ = "kpi_template_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("kpi_template.id", ondelete="CASCADE"), index=True)
    template = relationship("KpiTemplate", back_populates="items")


class Cycle(db.Model):
    __tablename__ = "appraisal_cycle"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[CycleKind] = mapped_column(EnumText(CycleKind, 16))
    period_start = mapped_column(Date, nullable=False)
    period_end = mapped_column(Date, nullable=False)
    status: Mapped[CycleStatus] = mapped_column(EnumText(CycleStatus, 16), default=CycleStatus.draft)
    hr_approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"grade", "min_score", "max_share", "coefficient"}], numbers as strings
    grade_table: Mapped[list] = mapped_column(JSON)
    targets_due = mapped_column(Date, nullable=True)
    approval_due = mapped_column(Date, nullable=True)
    self_review_due = mapped_column(Date, nullable=True)
    manager_review_due = mapped_column(Date, nullable=True)
    calibration_due = mapped_column(Date, nullable=True)
    started_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # the bonus pool (docs/bonus.md): empty = no pool; frozen with the cycle's bonus table
    bonus_budget = mapped_column(Numeric(14, 2), nullable=True)
    bonus_frozen_at = mapped_column(UTCDateTime, nullable=True)
    # empty: OKRs stay out of pay; a weight: each scorecard gets an "OKR attainment" item (docs/objectives.md)
    okr_weight = mapped_column(Numeric(6, 2), nullable=True)
    # reminders (docs/reminders.md): days before each deadline ("3,1"), every M days once overdue,
    # to the manager from K days overdue
    reminders_on: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    remind_before: Mapped[str] = mapped_column(String(32), default="3,1", server_default="3,1")
    remind_every: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    escalate_after: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    participants = relationship("CycleParticipant", back_populates="cycle", cascade="all, delete-orphan")


class CycleParticipant(db.Model):
    """One participant rule: a department (with sub-departments), a position or a person."""

    __tablename__ = "cycle_participant"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ParticipantKind] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    position_id: Mapped[int | None] = mapped_column(ForeignKey("position.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("kpi_template.id"))
    cycle = relationship("Cycle", back_populates="participants")
    template = relationship("KpiTemplate")


class CycleTemplate(db.Model):
    """The template version a position uses in a cycle, fixed at the first start."""

    __tablename__ = "cycle_template"
    __table_args__ = (UniqueConstraint("cycle_id", "position_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id", ondelete="CASCADE"))
    position_id: Mapped[int] = mapped_column(ForeignKey("position.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("kpi_template.id"))
    template = relationship("KpiTemplate")


class Scorecard(db.Model):
    __tablename__ = "scorecard"
    __table_args__ = (UniqueConstraint("cycle_id", "person_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("kpi_template.id"))
    state: Mapped[ScorecardState] = mapped_column(EnumText(ScorecardState, 20), default=ScorecardState.DRAFT,
                                                  index=True)
    version_id: Mapped[int] = mapped_column(nullable=False)
    self_comment: Mapped[str | None] = mapped_column(Text)
    manager_comment: Mapped[str | None] = mapped_column(Text)
    calibrated_grade: Mapped[str | None] = mapped_column(String(16))
    calibration_reason: Mapped[str | None] = mapped_column(Text)
    total = mapped_column(POINTS, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(16))
    bonus_coefficient = mapped_column(Numeric(6, 3), nullable=True)
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    locked_at = mapped_column(UTCDateTime, nullable=True)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reopened_from_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    cycle = relationship("Cycle")
    person = relationship("User", foreign_keys=[person_id])
    template = relationship("KpiTemplate")
    locked_by = relationship("User", foreign_keys=[locked_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    items = relationship("ScorecardItem", back_populates="scorecard", order_by="ScorecardItem.seq",
                         cascade="all, delete-orphan")
    events = relationship("ScorecardEvent", order_by="ScorecardEvent.id", viewonly=True)

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_locked(self):
        return self.state == ScorecardState.LOCKED

    def item(self, item_id):
        return next((i for i in self.items if i.id == int(item_id)), None)


# the stored at-risk flag of an item and what says whether it still holds (tracking/risk.py,
# "The stored flag"): not mapped, written only by risk.store_flags, emptied by a trigger
# (kpiapp/dbtriggers.py, create_risk_triggers) whenever an input of the rule changes
RISK_FLAG_COLUMNS = ["risk_flag", "risk_day", "risk_lasts", "risk_basis"]
RISK_MAYBE = "risk_flag IS NOT false OR risk_lasts IS NOT true"
RISK_LASTING = "risk_flag IS false AND risk_lasts IS true"
# what the at-risk rule (tracking/risk.py) reads of an item besides its card
AT_RISK_COLUMNS = ["id", "kind", "metric_key", "actual", "threshold", "target", "data_as_of", "direction",
                   *RISK_FLAG_COLUMNS]
# what the company dashboard's attainment reads besides (0031): the items from the index, not the ~1.4 kB rows
POINTS_COLUMNS = ["computed_points", "final_points", "weight"]


def rule_direction():
    """The `direction` of a scoring rule column, as the database reads it (PostgreSQL `->>`,
    SQLite `json_extract`): the generated column scorecard_item.direction."""
    return column("rule", JSON)["direction"].as_string()


class ScorecardItem(ItemFields, db.Model):
    __tablename__ = "scorecard_item"
    # The rule's direction as a plain column the database derives from `rule` on every write
    # (generated: STORED on PostgreSQL, VIRTUAL on SQLite), so the at-risk statement
    # (tracking/risk.py) reads it without parsing each item's JSON. Not mapped: no write path
    # can set it, and the ORM neither loads nor audits it. On PostgreSQL the card index also
    # carries every column the at-risk rule reads, so the team dashboard counts a team's
    # at-risk items from the index alone, not from the ~1.4 kB item rows (issue 10,
    # docs/scaling.md "The team dashboard at 10M facts: the at-risk statement and the line").
    #
    # The at-risk flag stored by the last run of risk.store_flags (the recompute, the imports'
    # recompute and the daily at-risk run): risk_flag the straight-line rule's answer,
    # risk_day the day it was computed for, risk_lasts whether it holds on every later day
    # (the data's day was not after risk_day, so "as of" is the data's day from then on),
    # risk_basis the cycle dates and metric definitions it was computed with
    # (item_risk_basis). Not mapped either; a trigger empties all four whenever an input of
    # the rule changes, so a flag is either exact or absent (absent: computed live).
    __table_args__ = (
        Column("direction", String, Computed(rule_direction())),
        Column("risk_flag", Boolean, nullable=True),
        Column("risk_day", Date, nullable=True),
        Column("risk_lasts", Boolean, nullable=True),
        Column("risk_basis", Integer, nullable=True),
        Index("ix_scorecard_item_scorecard_id", "scorecard_id", postgresql_include=AT_RISK_COLUMNS + POINTS_COLUMNS),
        # the items that may be at risk (tracking/risk.py maybe_at_risk, the same text), and
        # those flagged "not at risk, lasting" by basis and day (risk.lasting_safe): the
        # dashboards read the first and probe the second for flags that no longer hold
        Index("ix_scorecard_item_risk_maybe", "scorecard_id", postgresql_include=AT_RISK_COLUMNS,
              postgresql_where=text(RISK_MAYBE), sqlite_where=text(RISK_MAYBE)),
        Index("ix_scorecard_item_risk_lasting", "risk_basis", "risk_day",
              postgresql_where=text(RISK_LASTING), sqlite_where=text(RISK_LASTING)),
        # the company dashboard's trend targets: the items of a few metric keys (0040)
        Index("ix_scorecard_item_metric_key", "metric_key", "scorecard_id", postgresql_include=["target"]),
    )
    __mapper_args__ = {"exclude_properties": ["direction", *RISK_FLAG_COLUMNS]}
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id", ondelete="CASCADE"))
    # [{"store_id": 1, "share_pct": "40.00"}]: the stores this item is measured on
    scope: Mapped[list | None] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(default=1)
    actual = mapped_column(VALUE, nullable=True)
    data_as_of = mapped_column(UTCDateTime, nullable=True)
    provenance: Mapped[dict | None] = mapped_column(JSON)
    # the key result this KPI item contributes to (docs/objectives.md), if any
    key_result_id: Mapped[int | None] = mapped_column(ForeignKey("key_result.id"), index=True)
    computed_points = mapped_column(POINTS, nullable=True)
    explanation: Mapped[dict | None] = mapped_column(JSON)
    self_score = mapped_column(Numeric(7, 2), nullable=True)
    self_comment: Mapped[str | None] = mapped_column(Text)
    manager_score = mapped_column(Numeric(7, 2), nullable=True)
    manager_comment: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    final_points = mapped_column(POINTS, nullable=True)
    scorecard = relationship("Scorecard", back_populates="items")
    versions = relationship("ScorecardItemVersion", order_by="ScorecardItemVersion.revision", viewonly=True)

    @property
    def is_manual(self):
        return self.kind == ItemKind.manual

    @property
    def is_okr(self):
        return self.kind == ItemKind.okr


class ItemRiskBasis(db.Model):
    """What a stored at-risk flag was computed from besides its item and the day: the cycle's
    period and every current metric definition's key, direction and additivity, as one text
    (tracking/risk.py `basis_text`). A flag is read only while the text of today's definitions
    and its cycle equals its basis's, so an edited definition or cycle date silences the old
    flags without writing a single item (issue 10)."""

    __tablename__ = "item_risk_basis"
    __table_args__ = (UniqueConstraint("cycle_id", "basis"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(Text)


class ScorecardTotal(db.Model):
    """One scorecard's item sums, kept by database triggers on every insert, delete and
    points/weight change of scorecard_item (kpiapp/dbtriggers.py, create_total_triggers), so
    that pages grading a whole cycle read one row per card, not every item (issue 10). No row
    yet: the card has never had an item. On SQLite the sums are rounded to their exact places
    (points x weight four, weights two), as the float SUM would otherwise drift."""

    __tablename__ = "scorecard_total"
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id", ondelete="CASCADE"),
                                              primary_key=True, autoincrement=False)
    weighted = mapped_column(Numeric(15, 4), nullable=True)  # sum of final_points x weight
    scored: Mapped[int] = mapped_column(Integer, default=0)  # items with final_points
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    weights = mapped_column(Numeric(10, 2), nullable=True)  # sum of weight
    # 0039: the live sums (points = coalesce(final_points, computed_points), the attainment so far)
    live_weighted = mapped_column(Numeric(15, 4), nullable=True)  # sum of points x weight
    live_scored: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # items with points
    live_weights = mapped_column(Numeric(10, 2), nullable=True)  # sum of weight of the items with points


class ScorecardItemStore(db.Model):
    """One store named by a scorecard item's scope: the scope's JSON expanded, kept by database
    triggers on every insert, delete and scope change of scorecard_item (kpiapp/dbtriggers.py,
    create_item_store_triggers), so that pages grouping a cycle's items by store join this
    instead of expanding 40,000 JSON scopes a request (issue 10). A store named twice is one
    row; an entry without a store id, or a scope that is not a list, names none. Derived only:
    no key to the item or the store (the triggers remove an item's rows; a scope may name a
    store that is gone, which no store row then joins), never written by the application."""

    __tablename__ = "scorecard_item_store"
    # the company's table of a few stores reads their items from here (migration 0032)
    __table_args__ = (Index("ix_scorecard_item_store_store_id", "store_id", "item_id"),)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class ScorecardItemVersion(db.Model):
    """One approved version of an item's targets; every version is kept."""

    __tablename__ = "scorecard_item_version"
    __table_args__ = (UniqueConstraint("item_id", "revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scorecard_item.id", ondelete="CASCADE"), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column()
    data: Mapped[dict] = mapped_column(JSON)
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("change_request.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class ChangeRequest(db.Model):
    __tablename__ = "change_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # {"<item id>": {"target": "120000", ...}}, numbers as strings
    changes: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ChangeStatus] = mapped_column(EnumText(ChangeStatus, 16), default=ChangeStatus.pending)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at = mapped_column(UTCDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    scorecard = relationship("Scorecard")
    requested_by = relationship("User", foreign_keys=[requested_by_id])


class ScorecardEvent(db.Model):
    """One workflow transition (the audit log has a matching explicit event)."""

    __tablename__ = "scorecard_event"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"), index=True)
    action: Mapped[Action] = mapped_column(EnumText(Action, 32))
    old_state: Mapped[ScorecardState] = mapped_column(EnumText(ScorecardState, 20))
    new_state: Mapped[ScorecardState] = mapped_column(EnumText(ScorecardState, 20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at = mapped_column(UTCDateTime, default=utcnow)
    actor = relationship("User")


class Acknowledgement(db.Model):
    __tablename__ = "acknowledgement"
    __table_args__ = (UniqueConstraint("scorecard_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    objection: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)


class Appeal(db.Model):
    """An employee's appeal (申诉) against a locked result: appeal_flow.py's state machine.
    One per scorecard version; the locked scorecard itself never changes (a reopen makes
    version N+1, linked as `new_scorecard_id`)."""

    __tablename__ = "appeal"
    __table_args__ = (UniqueConstraint("scorecard_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[AppealState] = mapped_column(EnumText(AppealState, 16), default=AppealState.OPEN,
                                                index=True)
    reason: Mapped[str] = mapped_column(Text)
    deadline = mapped_column(Date)  # the reply is due by then
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    replied_at = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at = mapped_column(UTCDateTime, nullable=True)
    close_note: Mapped[str | None] = mapped_column(Text)
    new_scorecard_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    scorecard = relationship("Scorecard", foreign_keys=[scorecard_id])
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    replied_by = relationship("User", foreign_keys=[replied_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])


class Notification(db.Model):
    __tablename__ = "notification"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    scorecard_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard.id"))
    kind: Mapped[str] = mapped_column(String(40))
    # the message is rendered when read, in the reader's language (notifications/messages.py);
    # `message` holds the English text of rows written before keys existed
    key: Mapped[str | None] = mapped_column(String(40))
    params: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))  # the app path it points to, e.g. /cycles/3/scorecards/17
    created_at = mapped_column(UTCDateTime, default=utcnow)
    read_at = mapped_column(UTCDateTime, nullable=True)
    scorecard = relationship("Scorecard")


class ReviewDraft(db.Model):
    """What someone typed into a review form and has not saved yet: private to its author,
    deleted when the review is saved or the draft discarded (docs/appraisal.md, "Drafts").
    Autosaves are not audited row by row; kpiapp.appraisal.drafts records creation and discard."""

    __tablename__ = "review_draft"
    __audit__ = False
    __table_args__ = (UniqueConstraint("scorecard_id", "user_id", "stage"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20))  # the Edit it belongs to: self_review, manager_review
    payload: Mapped[dict] = mapped_column(JSON)  # {input name: text as typed}
    base_version: Mapped[int] = mapped_column(Integer)  # the scorecard's version_id when typed
    created_at = mapped_column(UTCDateTime, default=utcnow)
    saved_at = mapped_column(UTCDateTime, default=utcnow)


class PaceAlert(db.Model):
    """The week a person was told their items are at risk (docs/pace.md, "At-risk notification"):
    the unique (person, week) row is inserted before the notification, so a job run twice sends
    one. Bookkeeping for the notification, not a decision: not row-audited, like Notification."""

    __tablename__ = "pace_alert"
    __audit__ = False
    __table_args__ = (UniqueConstraint("person_id", "week"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    week = mapped_column(Date, nullable=False)  # the Monday of the ISO week
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("appraisal_cycle.id", ondelete="CASCADE"))
    items: Mapped[list | None] = mapped_column(JSON)  # ids of the items at risk when it was sent
    created_at = mapped_column(UTCDateTime, default=utcnow)
