"""Personal API tokens: shown once, stored only as a SHA-256 hash."""

import hashlib
import secrets

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kpiapp.extensions import db
from kpiapp.models.base import UTCDateTime, utcnow

TOKEN_PREFIX = "kpi_"


def hash_token(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret():
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(db.Model):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the first characters, so a person can tell their tokens apart; not enough to use
    hint: Mapped[str] = mapped_column(String(12))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    last_used_at = mapped_column(UTCDateTime, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    user = relationship("User")

    AUDIT_SECRET_FIELDS = ("token_hash",)

    @property
    def active(self):
        return self.revoked_at is None
