"""Column helpers shared by the models."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, String, TypeDecorator


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use UTC-aware datetimes")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class EnumText(TypeDecorator):
    """A string column that reads back as its enum member, so pages and reports get the
    member (and its label) rather than a bare string. The schema is a plain VARCHAR; a
    value the enum does not know (written by hand, or by a newer version) reads as text."""

    impl = String
    cache_ok = True

    def __init__(self, enum, length):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return self.enum(value)
        except ValueError:
            return value
