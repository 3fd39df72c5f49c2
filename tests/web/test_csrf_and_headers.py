import pytest
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, AuditRefusal, Role, User
from tests.factories import UserFactory
from tests.helpers import csrf_token, signed_in_client

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def write_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            yield rule


def build(rule, user):
    values = {arg: (user.id if arg.endswith("_id") else "csv") for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def state():
    """What a refused write must not change: every audit event but the refusal's own (issue 9)."""
    events = db.session.execute(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action != "access.denied")).scalar()
    tokens = tuple(db.session.execute(select(User.session_token).order_by(User.id)).scalars())
    return events, tokens


@pytest.mark.parametrize("token_kind", ["missing", "wrong", "other_session"])
def test_every_write_route_needs_a_valid_csrf_token(app, token_kind, figures):
    admin = UserFactory(role=Role.admin)
    client = signed_in_client(app, admin)
    other = app.test_client()
    tokens = {"missing": None, "wrong": "not-a-token", "other_session": csrf_token(other)}
    before, checked = state(), 0
    for rule in write_routes(app):
        data = {} if tokens[token_kind] is None else {"csrf_token": tokens[token_kind]}
        method = "POST" if "POST" in rule.methods else sorted(rule.methods & {"PUT", "PATCH", "DELETE"})[0]
        response = client.open(build(rule, admin), method=method, data=data,
                               headers={"X-CSRFToken": tokens[token_kind] or ""})
        assert response.status_code == 400, f"{rule.rule}: {response.status_code}"
        checked += 1
    changed = state() != before
    assert checked >= 10
    assert not changed
    refused = db.session.execute(select(func.sum(AuditRefusal.count))
                                 .where(AuditRefusal.reason == "csrf_failed")).scalar()
    assert refused == checked  # each refusal is counted (identical ones share one audit event)
    figures.tally("CSRF (missing, wrong, other session's token)", attempts=checked, refused_400=checked,
                  state_changes=int(changed), refusals_audited=refused)


def test_htmx_header_token_is_accepted(app):
    admin = UserFactory(role=Role.admin)
    client = signed_in_client(app, admin)
    token = csrf_token(client, "/")
    target = UserFactory()
    response = client.post(f"/admin/users/{target.id}/end-sessions", headers={"X-CSRFToken": token})
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/login", "/", "/org/people", "/admin/audit", "/healthz", "/nope"])
def test_security_headers_on_every_response(app, path):
    client = signed_in_client(app, UserFactory(role=Role.admin))
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000; includeSubDomains" in response.headers["Strict-Transport-Security"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_production_cookies_are_secure_and_host_prefixed():
    from config import Config

    assert Config.SESSION_COOKIE_SECURE and Config.REMEMBER_COOKIE_SECURE
    assert Config.SESSION_COOKIE_NAME.startswith("__Host-") and Config.REMEMBER_COOKIE_NAME.startswith("__Host-")
    assert Config.SESSION_COOKIE_SAMESITE == Config.REMEMBER_COOKIE_SAMESITE == "Lax"
    assert Config.SESSION_COOKIE_HTTPONLY and Config.REMEMBER_COOKIE_HTTPONLY
    assert Config.MFA_REQUIRED_FOR_PRIVILEGED


def test_error_page_has_reference_and_no_traceback(app):
    @app.route("/boom")
    def boom():  # pragma: no cover - exercised through the client
        raise RuntimeError("secret detail")

    boom.__policy__ = "public"
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as in production
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "Error reference" in body
    assert "secret detail" not in body and "Traceback" not in body


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "not configured",
                                   "signing": "demo"}
