"""Dashboard settings: which panels HR made public (docs/dashboards.md, "Public panels")."""
from sqlalchemy import select

from kpiapp import audit
from kpiapp.extensions import db
from kpiapp.models import DashboardPublicPanel


def public_panels(dashboard):
    """The keys of the panels of `dashboard` shown to every staff member (one query)."""
    return set(db.session.execute(select(DashboardPublicPanel.panel)
                                  .where(DashboardPublicPanel.dashboard == dashboard)).scalars())


def set_public(dashboard, panel, public, actor):
    """Make a panel public or not; flushes (audited by the ORM hooks), never commits.
    Returns whether anything changed."""
    row = db.session.execute(select(DashboardPublicPanel).where(
        DashboardPublicPanel.dashboard == dashboard, DashboardPublicPanel.panel == panel)).scalar()
    if public == (row is not None):
        return False
    if public:
        db.session.add(DashboardPublicPanel(dashboard=dashboard, panel=panel, made_public_by_id=actor.id))
    else:
        db.session.delete(row)
    with audit.acting_as(audit.actor_for(actor)):
        db.session.flush()
    return True
