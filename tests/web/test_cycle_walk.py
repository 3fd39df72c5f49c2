"""A whole cycle through HTTP only: the screens (forms + CSRF, with and without htmx) and the
JSON API (bearer tokens), for several people, asserting what the pages say after each step."""
import re
from datetime import date

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import manual_items, metric_item

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def new_token(browser):
    html = browser.post("/account/api-tokens", {"name": "script"}).get_data(as_text=True)
    return re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)


def api(client, token, method, path, json=None):
    response = client.open(
        f"/api/v1{path}", method=method, json=json, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.get_json()


def set_actual(card, value):
    services.set_actual(metric_item(card), value, date(2026, 12, 31), {"source": "test"})
    db.session.commit()


def test_whole_cycle_through_the_screens(team, browser):
    alice = team.people[0]
    card = team.card(alice)
    gmv, teamwork = metric_item(card), manual_items(card)[0]
    me, boss, hr, admin = browser(alice), browser(team.manager), browser(team.hr), browser(team.admin)
    url = f"/scorecards/{card.id}"

    # draft: edit a target in place (htmx gets the fragment back)
    r = me.post(
        f"{url}/targets", {f"items-{gmv.id}-target": "105000", "expected_version": card.version_id}, htmx=True
    )
    assert (
        r.status_code == 200
        and 'id="scorecard-' in r.get_data(as_text=True)
        and "<html" not in r.get_data(as_text=True)
    )
    assert 'value="105000"' in r.get_data(as_text=True) and "Targets saved." in r.get_data(as_text=True)

    # submit without htmx: a redirect back to the page, which says so
    r = me.post(f"{url}/actions/submit", {"expected_version": card.version_id})
    assert r.status_code == 302 and r.headers["Location"] == url
    page = me.page(url)
    assert "Submitted" in page and "Save targets" not in page

    # the manager returns it from the team page: a reason is required
    assert "Approve targets" in boss.page("/scorecards/team")
    r = boss.post(f"{url}/actions/return", {"expected_version": card.version_id, "view": "row"}, htmx=True)
    assert r.status_code == 422 and "Please give a reason" in r.get_data(as_text=True)
    r = boss.post(
        f"{url}/actions/return",
        {"expected_version": card.version_id, "view": "row", "reason": "Stretch is too low"},
        htmx=True,
    )
    body = r.get_data(as_text=True)
    assert (
        r.status_code == 200
        and body.lstrip().startswith(f'<tr id="scorecard-{card.id}-row"')
        and "Returned" in body
    )
    page = me.page(url)
    assert "Returned" in page and "Stretch is too low" in page and "Save targets" in page

    # resubmit with a higher stretch; the manager approves on the scorecard with htmx
    me.post(f"{url}/targets", {f"items-{gmv.id}-stretch": "140000", "expected_version": card.version_id})
    me.post(f"{url}/actions/submit", {"expected_version": card.version_id})
    r = boss.post(f"{url}/actions/approve", {"expected_version": card.version_id}, htmx=True)
    assert r.status_code == 200 and "Approved" in r.get_data(as_text=True)
    assert r.headers["Vary"] == "HX-Request" or "HX-Request" in r.headers["Vary"]
    page = me.page(url)
    assert (
        "Approved" in page and "Approved target versions" in page and "Ask to change approved targets" in page
    )

    # change request after approval: the approved target stays until the manager decides
    r = me.post(
        f"{url}/change-requests",
        {
            f"items-{gmv.id}-target": "98000",
            f"items-{gmv.id}-weight": "60",
            "reason": "Store delisted for 2 weeks",
            "expected_version": card.version_id,
        },
    )
    assert "Change request sent." in me.page(url) and "pending" in me.page(url)
    change_id = re.search(r"/change-requests/(\d+)", boss.page(url)).group(1)
    boss.post(
        f"{url}/change-requests/{change_id}", {"decision": "approve", "expected_version": card.version_id}
    )
    page = me.page(url)
    assert "Target revision 2" in page and "98,000.00" in page and "approved" in page

    # tracking data arrives; HR opens the review
    set_actual(team.card(alice), "110000")
    hr.post(f"{url}/actions/open_review", {"expected_version": team.card(alice).version_id})
    page = me.page(url)
    assert "Self-review" in page and "Your self-review" in page and "110,000.00" in page  # money shown by unit
    assert "between target" in page  # the plain-words score explanation

    # self-review: the submit guard explains what is missing, then it goes through
    r = me.post(f"{url}/actions/submit_self_review", {"expected_version": card.version_id}, htmx=True)
    assert r.status_code == 422 and "Add a self-review comment" in r.get_data(as_text=True)
    me.post(
        f"{url}/self-review",
        {
            "self_comment": "A good quarter.",
            f"items-{teamwork.id}-self_score": "4",
            "expected_version": card.version_id,
        },
    )
    me.post(f"{url}/actions/submit_self_review", {"expected_version": card.version_id})
    assert "Manager review" in me.page(url)

    # manager review: an override of a computed score needs a reason
    review = {
        f"items-{teamwork.id}-manager_score": "4",
        f"items-{gmv.id}-manager_score": "100",
        "manager_comment": "Agreed.",
        "expected_version": card.version_id,
    }
    r = boss.post(f"{url}/manager-review", review, htmx=True)
    assert r.status_code == 422 and "Overriding a computed score needs a reason" in r.get_data(as_text=True)
    boss.post(f"{url}/manager-review", {**review, f"items-{gmv.id}-override_reason": "One-off B2B order"})
    boss.post(f"{url}/actions/submit_manager_review", {"expected_version": card.version_id})
    assert "Calibration" in me.page(url) and "One-off B2B order" in me.page(url)

    # HR calibrates from the calibration view (inline row), then locks
    r = hr.post(
        f"{url}/calibrate",
        {"grade": "A", "reason": "Team quota", "view": "calibration", "expected_version": card.version_id},
        htmx=True,
    )
    assert r.status_code == 200 and f'id="scorecard-{card.id}-calibration"' in r.get_data(as_text=True)
    assert "Grade set." in r.get_data(as_text=True)
    hr.post(f"{url}/actions/lock", {"expected_version": card.version_id})
    page = me.page(url)
    assert "Locked" in page and "Acknowledge your result" in page and "<strong>A</strong>" in page

    # acknowledge with an objection (the comment is required)
    r = me.post(f"{url}/acknowledge", {"objection": "y"}, htmx=True)
    assert r.status_code == 422 and "Please give a reason" in r.get_data(as_text=True)
    me.post(f"{url}/acknowledge", {"objection": "y", "comment": "GMV excluded my B2B store"})
    assert "Acknowledged with an objection: GMV excluded my B2B store" in me.page(url)

    # an admin reopens: version 2 in manager review, version 1 stays readable
    r = admin.post(
        f"{url}/actions/reopen",
        {"reason": "Objection upheld", "expected_version": card.version_id},
        htmx=True,
    )
    new_url = r.headers["HX-Redirect"]
    assert new_url != url
    page = me.page(new_url)
    assert "Version 2" in page and "Manager review" in page and "v1" in page
    assert "Superseded by a newer version" in me.page(url)
    assert team.card(alice).version == 2 and team.card(alice).state == S.MANAGER_REVIEW


def test_whole_cycle_through_the_api(team, browser, app):
    bob, carol = team.people[1], team.people[2]
    tokens = {
        name: new_token(browser(user))
        for name, user in [
            ("bob", bob),
            ("carol", carol),
            ("manager", team.manager),
            ("hr", team.hr),
            ("admin", team.admin),
        ]
    }
    client = app.test_client()  # no cookies at all: the token is the only credential
    card = team.card(bob)

    status, body = api(client, tokens["bob"], "GET", "/scorecards")
    assert status == 200 and [c["id"] for c in body["scorecards"]] == [card.id]
    status, body = api(client, tokens["manager"], "GET", "/scorecards")
    assert len(body["scorecards"]) == 3
    status, body = api(client, tokens["bob"], "GET", "/cycles")
    assert [c["name"] for c in body["cycles"]] == ["2026 Q4"]
    status, body = api(client, tokens["hr"], "GET", f"/cycles/{team.cycle.id}")
    assert status == 200 and body["scorecards_by_state"] == {"draft": 3}

    def step(who, action, expect=200, **json):
        status, body = api(
            client, tokens[who], "POST", f"/scorecards/{card.id}/actions/{action}", json or None
        )
        assert status == expect, body
        return body

    body = step("bob", "submit")
    assert body["state"] == "submitted" and body["allowed_actions"] == []
    assert step("manager", "return", 422)["error"]["code"] == "reason_required"
    assert step("bob", "approve", 403)["error"]["code"] in ("forbidden", "own_scorecard")
    stale = body["version_id"] - 1
    assert step("manager", "approve", 409, expected_version=stale)["error"]["code"] == "conflict"
    body = step("manager", "return", reason="Add the ad budget")
    assert body["state"] == "returned" and body["events"][-1]["reason"] == "Add the ad budget"
    step("bob", "submit", expected_version=body["version_id"])
    step("manager", "approve")
    set_actual(team.card(bob), "100000")
    step("hr", "open_review")
    services.save_self_review(
        team.card(bob),
        bob,
        comment="ok",
        items={i.id: {"self_score": "3"} for i in manual_items(team.card(bob))},
    )
    db.session.commit()
    step("bob", "submit_self_review")
    services.save_manager_review(
        team.card(bob),
        team.manager,
        items={i.id: {"manager_score": "3"} for i in manual_items(team.card(bob))},
    )
    db.session.commit()
    step("manager", "submit_manager_review")
    body = step("hr", "lock")
    assert body["state"] == "locked" and body["total"] == "84.00"
    assert step("manager", "submit", 409)["error"]["code"] == "locked"
    body = step("admin", "reopen", reason="Wrong data")
    assert body["version"] == 2 and body["state"] == "manager_review" and body["id"] != card.id

    # carol's card is not bob's business, and unknown tokens get 401
    status, body = api(client, tokens["bob"], "GET", f"/scorecards/{team.card(carol).id}")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api(client, "kpi_nonsense", "GET", "/scorecards")
    assert status == 401 and body["error"]["code"] == "unauthorized"
