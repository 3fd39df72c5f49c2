import pytest
from sqlalchemy import event

from kpiapp.extensions import db


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every appraisal test runs inside the app (a fresh database per test)."""
    if db.engine.dialect.name == "sqlite":
        # a throw-away test database needs no fsync per commit; keeps the suite fast under load
        event.listen(db.engine, "connect", _no_fsync)
        db.engine.dispose()
    return app


def _no_fsync(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()
