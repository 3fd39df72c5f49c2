import pytest


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every appraisal test runs inside the app."""
    return app
