import pytest

from tests.appraisal.factories import make_team
from tests.helpers import csrf_from


@pytest.fixture
def team(app):
    return make_team(size=3)


class Browser:
    """A signed-in test client that posts forms with its CSRF token, with or without htmx."""

    def __init__(self, client):
        self.client = client
        home = client.get("/")
        if home.status_code == 302:  # a client's home is the portal
            home = client.get(home.headers["Location"])
        self.token = csrf_from(home.get_data(as_text=True))

    def get(self, path, htmx=False, **kw):
        return self.client.get(path, headers={"HX-Request": "true"} if htmx else {}, **kw)

    def post(self, path, data=None, htmx=False, **kw):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, headers=headers, **kw)

    def page(self, path):
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)


@pytest.fixture
def browser(login):
    return lambda user: Browser(login(user))
