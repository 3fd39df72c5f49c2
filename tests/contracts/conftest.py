import pytest


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every contract test runs inside the app (a fresh database per test)."""
    return app
