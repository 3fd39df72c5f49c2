"""Live marketplace connections and their pulls (issue 15, docs/connectors.md, migration 0020).

Credentials and tokens are JSON objects stored sealed (kpiapp/vault.py): the database, its
backups and the SQL log see ciphertext only; the audit log shows *** for them.
"""
import json

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.i18n import N_, LabelledEnum
from kpiapp.models.base import EnumText, UTCDateTime, utcnow
from kpiapp.vault import Sealed


class ConnectionStatus(LabelledEnum):
    connected = "connected", N_("connected")
    needs_reconnect = "needs_reconnect", N_("needs reconnecting")
    disabled = "disabled", N_("disabled")


class PullStatus(LabelledEnum):
    queued = "queued", N_("waiting")
    running = "running", N_("pulling")
    done = "done", N_("pulled")
    failed = "failed", N_("failed")


class StoreConnection(db.Model):
    """One per (store, platform key): how to reach the platform and what to pull, how often."""

    __tablename__ = "store_connection"
    __table_args__ = (UniqueConstraint("store_id", "platform"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))  # a connectors.base.REGISTRY key
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # JSON objects, sealed; deferred so a row whose key is gone still loads (opened on use)
    credentials_sealed: Mapped[str | None] = mapped_column(Sealed, deferred=True)
    tokens_sealed: Mapped[str | None] = mapped_column(Sealed, deferred=True)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    every_minutes: Mapped[int] = mapped_column(Integer, default=360)
    freshness_hours: Mapped[int] = mapped_column(Integer, default=36)
    status: Mapped[ConnectionStatus] = mapped_column(EnumText(ConnectionStatus, 20),
                                                     default=ConnectionStatus.connected)
    last_error: Mapped[str | None] = mapped_column(String(32))  # a base.Failure code
    # the per-store pull lock on SQLite (PostgreSQL uses an advisory lock): who holds it, since when
    lock_token: Mapped[str | None] = mapped_column(String(32))
    locked_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    store = relationship("Store")

    AUDIT_SECRET_FIELDS = ("credentials_sealed", "tokens_sealed")

    @property
    def credentials(self):
        return json.loads(self.credentials_sealed or "{}")

    @credentials.setter
    def credentials(self, values):
        self.credentials_sealed = json.dumps(values, sort_keys=True)

    @property
    def tokens(self):
        return json.loads(self.tokens_sealed or "{}")

    @tokens.setter
    def tokens(self, values):
        self.tokens_sealed = json.dumps(values, sort_keys=True)

    def credential_set(self, name):
        """Whether a credential has a value (faces show "set", never the value)."""
        return bool(self.credentials.get(name))


class ConnectionPull(db.Model):
    """One run of one data kind of one connection: range, outcome, the imports it created."""

    __tablename__ = "connection_pull"
    __audit__ = False  # written by the scheduler every run; the imports it creates are audited
    __table_args__ = (Index("ix_connection_pull_latest", "connection_id", "kind", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("store_connection.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # a base.DataKind
    date_from = mapped_column(Date)
    date_to = mapped_column(Date)
    status: Mapped[PullStatus] = mapped_column(EnumText(PullStatus, 12), default=PullStatus.queued)
    failure: Mapped[str | None] = mapped_column(String(32))  # a base.Failure code
    detail: Mapped[str | None] = mapped_column(Text)
    started_at = mapped_column(UTCDateTime, nullable=True)
    finished_at = mapped_column(UTCDateTime, nullable=True)
    import_ids: Mapped[list] = mapped_column(JSON, default=list)
    facts: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    connection = relationship("StoreConnection")
