"""Helpers for driving the app as a browser would."""
import re
from urllib.parse import urlsplit

from tests.factories import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html):
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def csrf_token(client, path="/login"):
    return csrf_from(client.get(path).get_data(as_text=True))


def signed_in_client(app, user, password=None):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": password or PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client


def post_form(client, path, data=None, page=None, **kwargs):
    """POST with the CSRF token taken from `page` (default: the same path)."""
    token = csrf_token(client, page or "/")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def sends_to_login(response):
    """A redirect to the sign-in page (not merely any redirect): what a dead session gets."""
    return response.status_code == 302 and urlsplit(response.headers.get("Location", "")).path == "/login"
