"""Object-level access (Z2), mass assignment (Z4), page-or-fragment and CSRF on the appraisal routes."""

import pytest

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models.api_tokens import ApiToken
from tests.appraisal.factories import metric_item, walk_to
from tests.factories import ClientUserFactory, UserFactory

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

GETS = ["/scorecards/{id}"]
POSTS = [
    "/scorecards/{id}/actions/submit",
    "/scorecards/{id}/actions/approve",
    "/scorecards/{id}/targets",
    "/scorecards/{id}/self-review",
    "/scorecards/{id}/manager-review",
    "/scorecards/{id}/change-requests",
    "/scorecards/{id}/change-requests/1",
    "/scorecards/{id}/calibrate",
    "/scorecards/{id}/acknowledge",
]


@pytest.fixture
def outsiders(team):
    """Someone else's employee, a manager of another team, and an outside client."""
    other_manager = UserFactory()
    return {
        "employee": team.people[1],
        "other_manager": other_manager,
        "other_report": UserFactory(manager=other_manager),
        "client": ClientUserFactory(),
    }


@pytest.mark.parametrize("who, expected", [("employee", 404), ("other_manager", 404), ("client", 403)])
@pytest.mark.parametrize("path", GETS + POSTS)
def test_foreign_scorecard_is_refused(team, outsiders, browser, who, expected, path):
    card = team.card(team.people[0])
    before = (card.state, card.version_id)
    client = browser(outsiders[who])
    url = path.format(id=card.id)
    response = (
        client.post(url, {"reason": "x", "expected_version": card.version_id})
        if path in POSTS
        else client.get(url)
    )
    assert response.status_code == expected
    assert team.people[0].name not in response.get_data(as_text=True)
    db.session.refresh(card)
    assert (card.state, card.version_id) == before


@pytest.mark.parametrize("who, expected", [("employee", 404), ("other_manager", 404), ("client", 403)])
def test_foreign_scorecard_through_the_api(team, outsiders, browser, app, who, expected):
    from tests.web.test_cycle_walk import api, new_token

    card = team.card(team.people[0])
    token = new_token(browser(outsiders[who])) if who != "client" else None
    if token is None:  # clients may not create tokens: the account page is staff-only
        assert browser(outsiders[who]).post("/account/api-tokens", {"name": "x"}).status_code == 403
        return
    client = app.test_client()
    assert api(client, token, "GET", f"/scorecards/{card.id}")[0] == expected
    assert api(client, token, "POST", f"/scorecards/{card.id}/actions/submit")[0] == expected
    assert api(client, token, "GET", "/scorecards")[1]["scorecards"] == [] or who == "employee"


def test_manager_sees_reports_but_not_other_teams(team, outsiders, browser):
    boss = browser(team.manager)
    assert boss.get(f"/scorecards/{team.card(team.people[0]).id}").status_code == 200
    page = boss.page("/scorecards/team")
    assert all(p.name in page for p in team.people)
    assert outsiders["other_report"].name not in browser(outsiders["other_manager"]).page("/scorecards/team")


def test_employee_cannot_mass_assign(team, browser):
    person = team.people[0]
    card = team.card(person)
    item = metric_item(card)
    me = browser(person)
    sneaky = {
        "state": "locked",
        "locked": "1",
        "cycle_id": "999",
        "manager_score": "120",
        "total": "100",
        f"items-{item.id}-manager_score": "120",
        f"items-{item.id}-final_points": "120",
        f"items-{item.id}-computed_points": "120",
        f"items-{item.id}-target": "90000",
        "expected_version": card.version_id,
    }
    me.post(f"/scorecards/{card.id}/targets", sneaky)
    db.session.refresh(card)
    db.session.refresh(item)
    assert card.state == S.DRAFT and card.cycle_id == team.cycle.id and card.total is None
    assert item.manager_score is None and item.final_points is None and str(item.target) == "90000.000000"
    # a manager-only field through the manager-review route: refused for the owner
    walk_to(team, person, S.MANAGER_REVIEW)
    r = me.post(
        f"/scorecards/{card.id}/manager-review",
        {f"items-{item.id}-manager_score": "120", "expected_version": card.version_id},
        htmx=True,
    )
    assert r.status_code == 422
    db.session.refresh(item)
    assert item.manager_score is None


def test_api_refuses_unknown_body_fields(team, browser, app):
    from tests.web.test_cycle_walk import api, new_token

    person = team.people[0]
    token = new_token(browser(person))
    card = team.card(person)
    status, body = api(
        app.test_client(),
        token,
        "POST",
        f"/scorecards/{card.id}/actions/submit",
        {"state": "locked", "cycle_id": 9},
    )
    assert status == 422 and body["error"]["code"] == "invalid_field"
    db.session.refresh(card)
    assert card.state == S.DRAFT


def test_htmx_gets_fragments_plain_gets_pages(team, browser):
    card = team.card(team.people[0])
    me = browser(team.people[0])
    for path, marker in [
        (f"/scorecards/{card.id}", f'id="scorecard-{card.id}"'),
        ("/inbox/", 'id="notifications"'),
    ]:
        page, fragment = me.get(path), me.get(path, htmx=True)
        assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
        assert "<html" in page.get_data(as_text=True) and marker in page.get_data(as_text=True)
        assert "<html" not in fragment.get_data(as_text=True) and marker in fragment.get_data(as_text=True)
    history = me.client.get(
        f"/scorecards/{card.id}", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in history.get_data(as_text=True)


def test_writes_need_csrf_also_on_the_api_with_a_session(team, login):
    person = team.people[0]
    card = team.card(person)
    client = login(person)
    assert client.post(f"/scorecards/{card.id}/actions/submit").status_code == 400
    response = client.post(f"/api/v1/scorecards/{card.id}/actions/submit", json={})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
    from tests.helpers import csrf_token

    ok = client.post(
        f"/api/v1/scorecards/{card.id}/actions/submit",
        json={},
        headers={"X-CSRFToken": csrf_token(client, "/")},
    )
    assert ok.status_code == 200 and ok.get_json()["state"] == "submitted"


def test_conflict_says_who_changed_it(team, browser):
    person = team.people[0]
    card = team.card(person)
    seen = card.version_id
    browser(team.manager).post(
        f"/scorecards/{card.id}/targets",
        {f"items-{metric_item(card).id}-target": "90000", "expected_version": seen},
    )
    r = browser(person).post(f"/scorecards/{card.id}/actions/submit", {"expected_version": seen}, htmx=True)
    assert r.status_code == 409 and f"changed by {team.manager.name}" in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)
    r = browser(person).post(f"/scorecards/{card.id}/actions/submit", {"expected_version": seen})
    assert (
        r.status_code == 409
        and "<html" in r.get_data(as_text=True)
        and "Reload the scorecard" in r.get_data(as_text=True)
    )


def test_tokens_are_stored_hashed_shown_once_and_revocable(team, browser, app):
    from tests.web.test_cycle_walk import api, new_token

    me = browser(team.people[0])
    token = new_token(me)
    row = db.session.query(ApiToken).one()
    assert token not in (row.token_hash, row.hint) and len(row.token_hash) == 64
    assert token not in me.page("/account/api-tokens")
    response = app.test_client().get("/api/v1/scorecards", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers  # no session for tokens
    me.post(f"/account/api-tokens/{row.id}/revoke")
    assert api(app.test_client(), token, "GET", "/scorecards")[0] == 401


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {
        "/cycles",
        "/cycles/{cycle_id}",
        "/scorecards",
        "/scorecards/{scorecard_id}",
        "/scorecards/{scorecard_id}/actions/{action}",
    } <= set(doc["paths"])


def test_inbox_shows_waiting_and_marks_read(team, browser):
    me = browser(team.people[0])
    page = me.page("/inbox/")
    assert "Draft your targets for 2026 Q4" in page and "2026 Q4" in page
    import re

    ids = re.findall(r'name="notification_id" value="(\d+)"', page)
    r = me.post("/inbox/read", {"notification_id": ids}, htmx=True)
    assert "No unread notifications." in r.get_data(as_text=True)


def test_whole_team_pages_for_hr(team, browser):
    hr = browser(team.hr)
    assert "2026 Q4" in hr.page("/cycles/")
    board = hr.page(f"/cycles/{team.cycle.id}")
    assert all(p.name in board for p in team.people)
    health = hr.page(f"/cycles/{team.cycle.id}/health")
    assert "Has not drafted targets" in health
    card = team.card(team.people[0])
    r = hr.post(f"/cycles/{team.cycle.id}/remind", {"scorecard_id": [card.id]}, htmx=True)
    assert "1 reminders sent." in r.get_data(as_text=True)
    assert "calibration" in hr.page(f"/cycles/{team.cycle.id}/calibration").lower()


def test_remind_back_with_a_line_break_goes_to_the_cycle(team, browser):
    hr = browser(team.hr)
    card = team.card(team.people[0])
    form = {"scorecard_id": [card.id], "back": "/x\r\nSet-Cookie: a=b"}
    r = hr.post(f"/cycles/{team.cycle.id}/remind", form)
    assert r.status_code == 302 and r.headers["Location"] == f"/cycles/{team.cycle.id}"


def test_api_conflict_names_who_changed_it(team, browser, app):
    from tests.web.test_cycle_walk import api, new_token

    person = team.people[0]
    card = team.card(person)
    seen = card.version_id
    browser(team.manager).post(
        f"/scorecards/{card.id}/targets",
        {f"items-{metric_item(card).id}-target": "90000", "expected_version": seen},
    )
    status, body = api(app.test_client(), new_token(browser(person)), "POST",
                       f"/scorecards/{card.id}/actions/submit", {"expected_version": seen})
    assert status == 409 and body["error"]["code"] == "conflict"
    assert body["error"]["changed_by"] == team.manager.name and body["error"]["changed_at"]
