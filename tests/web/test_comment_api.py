"""/api/v1 comments on key results, scorecards and KPI items (issue 14): the same policy as the
screens (whoever may see the target), mentions notify, the OpenAPI document describes them;
and a manual KPI item's comments are shown on its scorecard."""
import pytest

from kpiapp.extensions import db
from kpiapp.models import Comment, Notification
from kpiapp.objectives import comments
from tests.appraisal.factories import manual_items
from tests.objectives.helpers_tasks import make_crew
from tests.web.test_cycle_walk import api, new_token
from tests.web.test_openapi import conforms, document

pytestmark = pytest.mark.rollback


@pytest.fixture
def crew(app):
    crew = make_crew()
    crew.manager.name = "Li Wei"
    db.session.commit()
    return crew


def test_comments_on_key_results_scorecards_and_items(crew, browser, app, client):
    doc = document(client)
    paths = doc["paths"]
    for path in ("/key-results/{kr_id}/comments", "/scorecards/{scorecard_id}/comments",
                 "/scorecards/{scorecard_id}/items/{item_id}/comments"):
        assert {"get", "post"} <= set(paths[path]), path
    me, boss = new_token(browser(crew.worker)), new_token(browser(crew.manager))
    http = app.test_client()
    card = crew.team.card(crew.worker)
    item = manual_items(card)[0]
    targets = {f"/key-results/{crew.kr.id}/comments": "key_result", f"/scorecards/{card.id}/comments": "scorecard",
               f"/scorecards/{card.id}/items/{item.id}/comments": "item"}
    for path, kind in targets.items():
        status, body = api(http, me, "POST", path, {"body": f"@Li Wei look at this {kind}"})
        assert status == 201, body
        conforms(doc, "TaskComment", body)
        assert [m["id"] for m in body["mentions"]] == [crew.manager.id]
        status, body = api(http, boss, "GET", path)
        assert status == 200 and [c["body"] for c in body["comments"]] == [f"@Li Wei look at this {kind}"]
        conforms(doc, "TaskCommentList", body)
    kinds = {c.target_kind.value for c in db.session.query(Comment).all()}
    assert kinds == {"key_result", "scorecard", "item"}
    assert db.session.query(Notification).filter_by(key="comment.mention", user_id=crew.manager.id).count() == 3


def test_the_policy_decides_who_may_comment(crew, browser, app):
    peer, outsider = new_token(browser(crew.peer)), new_token(browser(crew.outsider))
    http = app.test_client()
    card = crew.team.card(crew.worker)
    item = manual_items(card)[0]
    other_card = crew.team.card(crew.peer)
    for token in (peer, outsider):  # the worker's private objective and scorecard are not theirs
        for path in (f"/key-results/{crew.kr.id}/comments", f"/scorecards/{card.id}/comments",
                     f"/scorecards/{card.id}/items/{item.id}/comments"):
            assert api(http, token, "GET", path)[0] == 404, path
            assert api(http, token, "POST", path, {"body": "hi"})[0] == 404, path
    # an item addressed through another scorecard is not found, even for someone who sees both
    hr = new_token(browser(crew.hr))
    assert api(http, hr, "GET", f"/scorecards/{other_card.id}/items/{item.id}/comments")[0] == 404
    status, body = api(http, hr, "POST", f"/scorecards/{card.id}/comments", {"body": "  "})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "body_required", "body")
    status, body = api(http, hr, "POST", f"/scorecards/{card.id}/comments", {"text": "x"})
    assert (status, body["error"]["code"]) == (422, "invalid_field")
    assert db.session.query(Comment).count() == 0


def test_a_manual_items_comments_show_on_its_scorecard(crew, browser):
    card = crew.team.card(crew.worker)
    item = manual_items(card)[0]
    comments.add_comment("item", item.id, "How was teamwork measured?", crew.worker)
    db.session.commit()
    page = browser(crew.manager).get(f"/scorecards/{card.id}").get_data(as_text=True)
    assert f'id="item-{item.id}-comments" open' in page and "How was teamwork measured?" in page
    assert f'id="comments-item-{item.id}"' in page
    # the form posts to the item; the comment comes back on the scorecard
    reply = browser(crew.manager).post(f"/comments/item/{item.id}", {"body": "By peer feedback.",
                                                                      "next": f"/scorecards/{card.id}"})
    assert reply.status_code == 302
    page = browser(crew.worker).get(f"/scorecards/{card.id}").get_data(as_text=True)
    assert "By peer feedback." in page
    fragment = browser(crew.worker).post(f"/comments/item/{item.id}", {"body": "Thanks", "next": f"/scorecards/{card.id}"},
                                         htmx=True).get_data(as_text=True)
    assert "<h3>Comments <small>(3)</small></h3>" in fragment and 'id="comments"' not in fragment
