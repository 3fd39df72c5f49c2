"""The bonus table of a cycle (奖惩, docs/bonus.md): one line per person, frozen with the cycle."""
from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.models.base import UTCDateTime, utcnow

MONEY = Numeric(14, 2)


class BonusLine(db.Model):
    """A person's bonus base in a cycle; grade, coefficient, amount and paid are written at the
    freeze (until then they are worked out live). Refused by triggers once the cycle is frozen."""

    __tablename__ = "bonus_line"
    __table_args__ = (UniqueConstraint("cycle_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("appraisal_cycle.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    base = mapped_column(MONEY, nullable=False)
    source: Mapped[str] = mapped_column(String(16), default="typed")  # typed / import
    grade: Mapped[str | None] = mapped_column(String(16))
    coefficient = mapped_column(Numeric(6, 3), nullable=True)
    amount = mapped_column(MONEY, nullable=True)
    paid = mapped_column(MONEY, nullable=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    cycle = relationship("Cycle")
    person = relationship("User", foreign_keys=[person_id])
