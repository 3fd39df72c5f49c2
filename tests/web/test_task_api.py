"""/api/v1/tasks: list, create, read, edit, move, comment; the same policy as the screens;
refusals with stable codes; the OpenAPI document describes them and the answers conform."""
import pytest

from kpiapp.extensions import db
from kpiapp.models import Notification
from kpiapp.objectives import tasks
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


def test_task_lifecycle_through_the_api(crew, browser, app, client):
    doc = document(client)
    boss, me = new_token(browser(crew.manager)), new_token(browser(crew.worker))
    http = app.test_client()
    status, body = api(http, boss, "POST", "/tasks", {"title": "Relist ASINs", "assignee_id": crew.worker.id,
                                                      "due": "2026-11-30", "checklist": ["export", "fix"],
                                                      "key_result_id": crew.kr.id})
    assert status == 201, body
    conforms(doc, "Task", body)
    task_id = body["id"]
    assert (body["assignee"]["id"], body["status"], body["key_result_id"]) == (crew.worker.id, "open", crew.kr.id)
    assert body["steps"] == ["start", "finish", "drop"]

    status, body = api(http, me, "GET", "/tasks?mine=1")
    assert status == 200 and [t["id"] for t in body["tasks"]] == [task_id]
    conforms(doc, "TaskList", body)
    status, body = api(http, me, "POST", f"/tasks/{task_id}/steps/start")
    assert status == 200 and body["status"] == "in_progress"
    status, body = api(http, me, "POST", f"/tasks/{task_id}/steps/drop", {"reason": ""})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "text_required", "reason")
    status, body = api(http, me, "PATCH", f"/tasks/{task_id}", {"title": "Relist 40 ASINs"})
    assert status == 200 and body["title"] == "Relist 40 ASINs"
    status, body = api(http, me, "POST", f"/tasks/{task_id}/steps/finish")
    assert status == 200 and body["status"] == "done" and body["done_at"]

    status, body = api(http, me, "POST", f"/tasks/{task_id}/comments", {"body": "@Li Wei done, see sheet"})
    assert status == 201 and [m["id"] for m in body["mentions"]] == [crew.manager.id]
    conforms(doc, "TaskComment", body)
    status, body = api(http, boss, "GET", f"/tasks/{task_id}/comments")
    assert status == 200 and [c["body"] for c in body["comments"]] == ["@Li Wei done, see sheet"]
    assert db.session.query(Notification).filter_by(key="comment.mention").count() == 1


def test_refusals_and_policy(crew, browser, app):
    task = tasks.create_task({"title": "Private"}, crew.worker)
    db.session.commit()
    me, peer = new_token(browser(crew.worker)), new_token(browser(crew.peer))
    http = app.test_client()
    assert api(http, peer, "GET", f"/tasks/{task.id}")[0] == 404
    assert api(http, peer, "POST", f"/tasks/{task.id}/steps/start")[0] == 404
    assert api(http, peer, "GET", "/tasks")[1] == {"tasks": [], "next_after": None}
    status, body = api(http, me, "POST", "/tasks", {"title": "x", "assignee_id": crew.peer.id})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "assignee_not_allowed", "assignee_id")
    status, body = api(http, me, "POST", "/tasks", {"title": "x", "colour": "red"})
    assert (status, body["error"]["code"]) == (422, "invalid_field")
    status, body = api(http, me, "POST", "/tasks", {"title": "x", "due": "soon"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "invalid_value", "due")
    status, body = api(http, me, "PATCH", f"/tasks/{task.id}", {"checklist": ["no"]})
    assert (status, body["error"]["code"]) == (422, "invalid_field")
    status, body = api(http, me, "POST", f"/tasks/{task.id}/steps/reopen")
    assert (status, body["error"]["code"]) == (422, "not_allowed_in_state")
    assert api(http, "nonsense", "GET", "/tasks")[0] == 401


def test_the_document_lists_the_task_operations(client):
    paths = document(client)["paths"]
    assert {"get", "post"} <= set(paths["/tasks"]) and "patch" in paths["/tasks/{task_id}"]
    assert "post" in paths["/tasks/{task_id}/steps/{step}"]
