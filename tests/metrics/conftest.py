"""Fixtures of the fact table tests: two US stores and the HR user who imports."""
import pytest

from tests.imports.files import hr_user, store


@pytest.fixture
def shops(app):
    return store(code="US-1"), store(code="US-2")


@pytest.fixture
def user(app):
    return hr_user()
