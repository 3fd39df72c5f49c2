"""All models, imported here so Alembic and the app see one metadata."""
from kpiapp.models.audit import AuditEvent
from kpiapp.models.org import ClientCompany, Department, Platform, Position, Store, StoreOwner
from kpiapp.models.users import Role, User

__all__ = [
    "AuditEvent", "ClientCompany", "Department", "Platform", "Position", "Role", "Store",
    "StoreOwner", "User",
]
