"""Data disputes (数据异议): a flag on one data-backed number (docs/disputes.md)."""
from sqlalchemy import ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.appraisal.dispute_flow import DisputeState
from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.appraisal import VALUE
from kpiapp.models.base import EnumText, UTCDateTime, utcnow

ACTIVE = "status IN ('open', 'corrected')"


class Resolution(LabelledEnum):
    IMPORT = "import", N_("corrected by a new import")
    MANUAL = "manual", N_("corrected by hand")


class Dispute(db.Model):
    """One dispute of one scorecard item's actual: dispute_flow.py's state machine. At most
    one active (open or corrected) dispute per item: a partial unique index."""

    __tablename__ = "data_dispute"
    __table_args__ = (
        Index("uq_data_dispute_active_item", "scorecard_item_id", unique=True,
              sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_item_id: Mapped[int] = mapped_column(ForeignKey("scorecard_item.id"), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    comment: Mapped[str] = mapped_column(Text)
    disputed_value = mapped_column(VALUE, nullable=True)  # the actual the person saw
    status: Mapped[DisputeState] = mapped_column(EnumText(DisputeState, 16), default=DisputeState.OPEN,
                                                 index=True)
    resolution: Mapped[Resolution | None] = mapped_column(EnumText(Resolution, 16))
    corrected_import_id: Mapped[int | None] = mapped_column(ForeignKey("import_record.id"))
    manual_value = mapped_column(VALUE, nullable=True)
    corrected_value = mapped_column(VALUE, nullable=True)  # the actual right after the correction
    resolution_note: Mapped[str | None] = mapped_column(Text)  # why corrected, or why rejected
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    handled_at = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at = mapped_column(UTCDateTime, nullable=True)
    close_note: Mapped[str | None] = mapped_column(Text)
    lock_override_reason: Mapped[str | None] = mapped_column(Text)
    lock_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lock_override_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("ScorecardItem")
    scorecard = relationship("Scorecard")
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    handled_by = relationship("User", foreign_keys=[handled_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    lock_override_by = relationship("User", foreign_keys=[lock_override_by_id])
    stores = relationship("DisputeStore", cascade="all, delete-orphan")

    @property
    def store_ids(self):
        return {s.store_id for s in self.stores}


class DisputeStore(db.Model):
    """A store in the disputed item's scope when the dispute was raised: its owners handle the
    dispute (policy.can_handle_dispute) and the queue finds their disputes in one join."""

    __tablename__ = "data_dispute_store"
    dispute_id: Mapped[int] = mapped_column(ForeignKey("data_dispute.id", ondelete="CASCADE"),
                                            primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), primary_key=True, index=True)
