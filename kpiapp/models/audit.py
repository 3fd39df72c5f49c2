"""The append-only, hash-chained audit log (SECURITY.md §4)."""
from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kpiapp.extensions import db
from kpiapp.models.base import UTCDateTime


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __audit__ = False
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ts_utc = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column()
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # set when the event is HMAC-keyed (AUDIT_HMAC_KEY_FILE); NULL: plain SHA-256
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditRefusal(db.Model):
    """Throttle buckets for refusal events: one row per identical refusal per minute.

    The first refusal of a bucket appends an audit event; the rest only raise
    `count`, so a flood of refusals cannot flood the chain.  Not itself audited.
    """

    __tablename__ = "audit_refusal"
    __audit__ = False
    __table_args__ = (UniqueConstraint("key", "minute"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    minute = mapped_column(UTCDateTime, nullable=False)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column()
    count: Mapped[int] = mapped_column(Integer, default=1)
