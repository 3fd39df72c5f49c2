import pytest


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every reminder test runs inside the app."""
    return app
