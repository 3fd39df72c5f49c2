"""Every route x every principal, generated from the app's URL map.

A route without a policy rule fails here; so does a rule this file does not
know, so a new permission needs a conscious line in EXPECTED below.  The
expectations are written independently of kpiapp.policy: they say who should
get in, and the test checks what the server actually does.
"""
import pytest
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Role
from tests.factories import ClientUserFactory, DepartmentFactory, StoreOwnerFactory, UserFactory
from tests.helpers import signed_in_client

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

PRINCIPALS = ["anonymous", "employee", "manager", "hr", "admin", "client"]
EVERYONE = set(PRINCIPALS)
SIGNED = EVERYONE - {"anonymous"}
STAFF = SIGNED - {"client"}
HR_ADMIN = {"hr", "admin"}

EXPECTED = {
    "public": EVERYONE,
    "signed_in": SIGNED,
    "staff": STAFF,
    "people.manage": HR_ADMIN,
    "org.manage": HR_ADMIN,
    "stores.manage": HR_ADMIN,
    "team.view": STAFF,
    "users.manage": {"admin"},
    "audit.read": {"admin"},
    "integrations.manage": {"admin"},
    "imports.run": HR_ADMIN,
    "metrics.manage": HR_ADMIN,
    "metrics.view": STAFF,
    "appraisal.manage": HR_ADMIN,
    "reports.issue": HR_ADMIN,
    "disputes.handle": HR_ADMIN,  # and store owners (tests/web/test_dispute_screens.py); none here
    "contracts.work": HR_ADMIN,  # and a contract's account team (tests/web/test_contract_screens.py); none here
    "portal.use": {"client"},
    "connections.manage": {"admin"},  # marketplace API credentials (docs/connectors.md)  # a client user of a client company (the world's client has one)
}
SKIP = {"static", "auth.logout"}  # logout is tested on its own in test_auth


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule, method


def sample_url(rule, world):
    values = {}
    for arg in rule.arguments:
        choices = getattr(rule._converters.get(arg), "items", None)  # an any(...) converter
        if choices:
            values[arg] = sorted(choices)[0]
        elif arg in world:
            values[arg] = world[arg]
        elif arg.endswith("_id"):
            values[arg] = 999_999
        elif arg == "fmt":
            values[arg] = "csv"
        else:
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def world(app):
    dept = DepartmentFactory()
    manager = UserFactory(department=dept)
    employee = UserFactory(department=dept, manager=manager)
    target = UserFactory(department=dept)  # nobody's report: a foreign person
    owner = StoreOwnerFactory(person=target)
    people = {
        "employee": employee, "manager": manager, "hr": UserFactory(role=Role.hr),
        "admin": UserFactory(role=Role.admin), "client": ClientUserFactory(),
    }
    ids = {"person_id": target.id, "user_id": target.id, "department_id": dept.id,
           "store_id": owner.store_id, "owner_id": owner.id}
    return people, ids


def client_for(app, principal, people):
    if principal == "anonymous":
        return app.test_client()
    return signed_in_client(app, people[principal])


def outcome(response, method="GET"):
    """The policy sends anonymous GETs to /login?next=..., anonymous writes to /login,
    and anonymous API calls get 401."""
    location = response.headers.get("Location", "")
    if response.status_code == 403:
        return "denied"
    if response.status_code == 401:
        return "login"
    if response.status_code == 302 and (location.startswith("/login?next=") or
                                        (method != "GET" and location == "/login")):
        return "login"
    return "allowed"


def signed_out(client):
    """Whether a write just ended this client's session (e.g. end-sessions). Asked after writes
    only: a GET that ended it would turn every later route into "login" here, a failure."""
    return client.get("/account/two-factor").status_code == 302


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_every_route_for(app, world, principal, figures):
    people, ids = world
    client = client_for(app, principal, people)
    problems, checked = [], 0
    for rule, method in routes(app):
        declared = getattr(app.view_functions[rule.endpoint], "__policy__", None)
        if declared is None or declared not in EXPECTED:
            problems.append(f"{rule.endpoint}: rule {declared!r} is not classified")
            continue
        response = client.open(sample_url(rule, ids), method=method)
        checked += 1
        got, allowed = outcome(response, method), principal in EXPECTED[declared]
        wanted = "allowed" if allowed else ("login" if principal == "anonymous" else "denied")
        if got != wanted:
            problems.append(f"{method} {rule.rule} as {principal}: {got} ({response.status_code}), want {wanted}")
        if principal != "anonymous" and method != "GET" and signed_out(client):
            client = client_for(app, principal, people)  # a route ended the session (e.g. end-sessions)
    assert not problems, "\n".join(problems)
    figures.tally("Access matrix (route x method x principal)", requests=checked, unexpected=len(problems))


def test_all_routes_are_classified(app, figures):
    unclassified = [r.endpoint for r, _m in routes(app)
                    if getattr(app.view_functions[r.endpoint], "__policy__", None) is None]
    assert unclassified == []
    figures.tally("Route coverage", routes=len(list(routes(app))), unclassified=len(unclassified))


def test_denied_write_is_audited(app, world):
    people, ids = world
    client = client_for(app, "employee", people)
    response = client.post(f"/admin/users/{ids['user_id']}/end-sessions")
    assert response.status_code == 403
    denied = db.session.execute(select(AuditEvent).where(AuditEvent.action == "access.denied")).scalars().all()
    assert len(denied) == 1 and denied[0].actor == people["employee"].email


@pytest.mark.parametrize("principal, expected", [
    ("employee", 404), ("manager", 200), ("hr", 200), ("admin", 200), ("client", 403),
])
def test_person_page_object_rules(app, world, principal, expected):
    people, _ids = world
    report = people["employee"]
    foreign = UserFactory()
    client = client_for(app, principal, people)
    assert client.get(f"/org/people/{foreign.id if principal == 'employee' else report.id}").status_code == expected


def test_employee_sees_own_person_page(app, world):
    people, _ids = world
    client = client_for(app, "employee", people)
    assert client.get(f"/org/people/{people['employee'].id}").status_code == 200


def test_manager_sees_skip_level_reports(app, world):
    people, _ids = world
    skip = UserFactory(manager=people["employee"])
    client = client_for(app, "manager", people)
    assert client.get(f"/org/people/{skip.id}").status_code == 200


def audit_count():
    return db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
