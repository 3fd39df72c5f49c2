import pytest

from kpiapp.connectors import services
from kpiapp.connectors.fake import create_app as fake_app
from kpiapp.connectors.fake.transport import session_for
from tests.connectors import testshop
from tests.factories import StoreFactory, UserFactory
from kpiapp.models import Role

BASE = "http://stand-in.test"


@pytest.fixture
def stand_in():
    app = fake_app()
    app.register_blueprint(testshop.bp)
    return app


@pytest.fixture
def wire(app, stand_in):
    """Every connector built in the test talks to the in-process stand-in."""
    with services.http_session(session_for(stand_in, BASE)) as session:
        yield session


@pytest.fixture
def admin(app):
    return UserFactory(role=Role.admin, email="admin@example.com")


@pytest.fixture
def shop(app):
    return StoreFactory(code="AMZ-US", timezone="UTC")


def connect_testshop(store, **kwargs):
    connection = services.connect(store, "testshop", {"base_url": BASE},
                                  {**testshop.CLIENT, "refresh_token": testshop.REFRESH}, **kwargs)
    from kpiapp.extensions import db

    db.session.commit()
    return connection
