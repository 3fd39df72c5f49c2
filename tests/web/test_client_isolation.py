"""Isolation is the point (issue 13): two client companies with a contract, an amendment and
reports each (accepted and signed, disputed, sent, draft); every route of the url map, GET and
POST, plain and as htmx, and every API endpoint with the client's bearer token, tried by each
company's client user with the OTHER company's ids. Wanted: 0 unexpected 2xx, and none of the
other company's texts (name, contract code, clause names, comments, amendment, e-mail,
document id) in any body; no internal note anywhere.

A 2xx is expected only where the route rule lets every signed-in user in (sign-in, account,
language, verify) or on a portal page that names no object (the portal's home)."""
from urllib.parse import unquote

import pytest

from kpiapp.contracts.report_flow import ReportState
from kpiapp.extensions import db
from kpiapp.models import Role, StoreOwner
from kpiapp.models.appraisal import ScorecardItem
from tests.appraisal.factories import make_team
from tests.contracts.portal_world import company_world
from tests.helpers import signed_in_client

pytestmark = pytest.mark.rollback

SKIP = {"static", "auth.logout"}
OPEN_TO_ALL = {"public", "signed_in"}
OBJECT_ARGS = {"contract_id", "report_id", "version_id", "document_id", "company_id", "invite_id", "token"}
TEXT_TYPES = ("text/", "application/json", "application/xml")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def worlds(app):
    return {"Quokkatel": company_world("Quokkatel"), "Zebulonix": company_world("Zebulonix")}


def other_ids(world, team):
    """The other company's object ids, and an id of every other kind the app has."""
    setup = world.setup
    card = team.card(team.people[0]) or team.card(team.people[1])
    item = db.session.query(ScorecardItem).first()
    owner = StoreOwner(store_id=setup.stores[0].id, person_id=setup.lead.id, share_pct=100)
    db.session.add(owner)
    db.session.commit()
    return {
        "contract_id": [setup.contract.id],
        "report_id": [r.id for r in world.reports.values()],
        "version_id": [setup.version.id, world.proposed.id],
        "document_id": [world.document.document_id],
        "company_id": [setup.company.id],
        "invite_id": [world.invite.id],
        "clause_id": [c.id for c in setup.version.clauses] + [c.id for c in world.proposed.clauses],
        "token_id": [world.api_token.id],
        "token": ["not-a-token-anyone-holds"],  # a token is a secret, not an id: the other's is unknown
        "store_id": [s.id for s in setup.stores],
        "person_id": [setup.client_user.id, setup.lead.id],
        "user_id": [setup.client_user.id, setup.lead.id],
        "owner_id": [owner.id],
        "department_id": [team.people[0].department_id],
        "cycle_id": [team.cycle.id],
        "template_id": [team.template.id],
        "scorecard_id": [card.id] if card else [999_999],
        "item_id": [item.id] if item else [999_999],
        "key": ["gmv"],
        "fmt": ["csv", "xlsx"],
        "filename": ["x.csv"],
        "action": ["submit"],
        "stage": ["self"],
    }


def choices(rule, arg, ids):
    """The values to try for one argument: every item of an any(...) converter, else the ids."""
    items = getattr(rule._converters.get(arg), "items", None)
    return sorted(items) if items else ids.get(arg, [999_999])


def fill(rule, ids):
    """Every way to fill the rule's arguments with the foreign ids (one list varied at a time)."""
    base = {arg: choices(rule, arg, ids)[0] for arg in rule.arguments}
    yield base
    for arg in rule.arguments:
        for value in choices(rule, arg, ids)[1:]:
            yield {**base, arg: value}


def requests_for(app, ids):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP:
            continue
        for method in sorted(rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            for values in fill(rule, ids):
                yield rule, method, rule.build(values, append_unknown=False)[1]


def may_succeed(app, rule):
    declared = getattr(app.view_functions[rule.endpoint], "__policy__", None)
    if declared in OPEN_TO_ALL:
        return True
    return declared == "portal.use" and not (set(rule.arguments) & OBJECT_ARGS)


def foreign_text(response, markers, path):
    """The markers in the body, beyond any the request itself carried (an error page may echo
    the address asked for)."""
    markers = [m for m in markers if m not in unquote(path)]
    if not response.mimetype.startswith(TEXT_TYPES) and response.mimetype != "application/pdf":
        return []
    body = response.get_data()
    return [m for m in markers if m.encode() in body]


def login_again_if_needed(app, client, user):
    if client.get("/account/password").status_code == 302:
        return signed_in_client(app, user)
    return client


@pytest.mark.parametrize("me, them", [("Quokkatel", "Zebulonix"), ("Zebulonix", "Quokkatel")])
def test_a_client_reaches_nothing_of_the_other_company(app, worlds, me, them, figures):
    team = make_team(size=2)
    mine, theirs = worlds[me], worlds[them]
    ids = other_ids(theirs, team)
    markers = theirs.markers() | {theirs.internal(), mine.internal()}
    client = signed_in_client(app, mine.client)
    problems, checked = [], 0
    for rule, method, path in requests_for(app, ids):
        for htmx in (False, True):
            response = client.open(path, method=method, headers={"HX-Request": "true"} if htmx else {})
            checked += 1
            where = f"{method} {path}{' (htmx)' if htmx else ''}"
            if 200 <= response.status_code < 300 and not may_succeed(app, rule):
                problems.append(f"{where}: {response.status_code}")
            problems += [f"{where}: shows {m!r}" for m in foreign_text(response, markers, path)]
            client = login_again_if_needed(app, client, mine.client)
    assert not problems, "\n".join(problems)
    figures.tally("Client isolation (route x method x htmx x client)", requests=checked, unexpected=len(problems))


@pytest.mark.parametrize("me, them", [("Quokkatel", "Zebulonix"), ("Zebulonix", "Quokkatel")])
def test_the_api_gives_a_client_token_nothing(app, worlds, me, them):
    team = make_team(size=2)
    mine, theirs = worlds[me], worlds[them]
    ids = other_ids(theirs, team)
    markers = theirs.markers() | {theirs.internal(), mine.internal()}
    client = app.test_client()
    headers = {"Authorization": f"Bearer {mine.api_secret}"}
    problems, checked = [], 0
    for rule, method, path in requests_for(app, ids):
        if not rule.rule.startswith("/api/"):
            continue
        response = client.open(path, method=method, headers=headers, json={})
        checked += 1
        if 200 <= response.status_code < 300 and not may_succeed(app, rule):
            problems.append(f"{method} {path}: {response.status_code}")
        problems += [f"{method} {path}: shows {m!r}" for m in foreign_text(response, markers, path)]
    assert checked > 5 and not problems, "\n".join(problems)


def test_own_pages_show_own_texts_but_never_the_internal_note(app, worlds):
    mine = worlds["Quokkatel"]
    client = signed_in_client(app, mine.client)
    pages = ["/portal/", f"/portal/contracts/{mine.setup.contract.id}",
             f"/portal/contracts/{mine.setup.contract.id}/versions/{mine.proposed.id}",
             f"/portal/contracts/{mine.setup.contract.id}/trends",
             *(f"/portal/reports/{r.id}" for s, r in mine.reports.items() if s != ReportState.DRAFT)]
    for path in pages:
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert mine.internal() not in body and "Zebulonix" not in body, path
    draft = mine.reports[ReportState.DRAFT]
    assert client.get(f"/portal/reports/{draft.id}").status_code == 404
    assert client.get(f"/portal/contracts/{mine.setup.contract.id}/versions/{mine.setup.version.id}").status_code == 200


def test_a_client_is_no_staff_member(app, worlds):
    """A client user has role client; the agency's pages answer 403 (route) or 404 (object)."""
    mine = worlds["Quokkatel"]
    assert mine.client.role == Role.client
    client = signed_in_client(app, mine.client)
    assert client.get("/org/clients").status_code == 403
    assert client.get(f"/org/clients/{mine.setup.company.id}").status_code == 403
