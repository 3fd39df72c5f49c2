"""Dashboard settings (docs/dashboards.md, migration 0017): the company panels HR made public."""
from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kpiapp.extensions import db
from kpiapp.models.base import UTCDateTime, utcnow


class DashboardPublicPanel(db.Model):
    """A row: panel `panel` of dashboard `dashboard` is shown to every staff member."""

    __tablename__ = "dashboard_public_panel"
    __table_args__ = (UniqueConstraint("dashboard", "panel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dashboard: Mapped[str] = mapped_column(String(32))
    panel: Mapped[str] = mapped_column(String(48))
    made_public_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    made_public_at = mapped_column(UTCDateTime, default=utcnow)


class DataVersion(db.Model):
    """One row: a random token that changes in every committed transaction that wrote a table a
    page may read (docs/dashboards.md, "The memo"). Kept by triggers (dbtriggers.py,
    `track_data_version`); read by `kpiapp.dashboards.memo`. Never written by the app."""

    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(36))


class DataTouch(db.Model):
    """PostgreSQL: a transaction that wrote a tracked table, until it commits (a deferred trigger
    on this table changes the token once at commit and deletes the row). Empty outside writing
    transactions; unused on SQLite."""

    __tablename__ = "data_touch"
    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
