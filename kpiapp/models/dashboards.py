"""Dashboard settings (docs/dashboards.md, migration 0017): the company panels HR made public."""
from sqlalchemy import ForeignKey, String, UniqueConstraint
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
