"""/api/v1/objectives and /api/v1/key-results: the same services and policy as the pages,
JSON errors with codes and fields, and responses true to the OpenAPI document."""
import jsonschema
import pytest

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, KeyResult
from tests.objectives.okr_world import QUARTER, company_objective, make_world
from tests.web.conftest import Browser
from tests.web.test_cycle_walk import api, new_token

pytestmark = pytest.mark.rollback


@pytest.fixture
def w(app):
    return make_world()


@pytest.fixture
def call(app, login):
    tokens = {}

    def request(user, method, path, json=None):
        if user.id not in tokens:
            tokens[user.id] = new_token(Browser(login(user)))
        return api(app.test_client(), tokens[user.id], method, path, json)

    return request


def conforms(app, name, body):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_objectives_as_a_tree_through_the_api(app, w, call):
    top = company_objective(w, rollup=True)
    status, made = call(w.head, "POST", "/objectives", {"title": "Sales Europe", "level": "department",
                                                         "period": QUARTER, "parent_id": top.id, "weight": "2"})
    assert status == 201 and made["parent_id"] == top.id and made["owner"]["id"] == w.head.id
    assert made["period"] == {"kind": "quarter", "label": QUARTER, "start": top.period_start.isoformat(),
                              "end": top.period_end.isoformat()}
    conforms(app, "Objective", made)
    status, listed = call(w.people[0], "GET", f"/objectives?period={QUARTER}")
    assert status == 200 and {(o["id"], o["parent_id"]) for o in listed["objectives"]} == {
        (top.id, None), (made["id"], top.id)}
    conforms(app, "ObjectiveList", listed)
    status, patched = call(w.head, "PATCH", f"/objectives/{made['id']}", {"title": "Sales EU", "shared": False})
    assert status == 200 and patched["title"] == "Sales EU" and not patched["shared"] and patched["weight"] == "2.00"
    status, tree = call(w.gm, "GET", f"/objectives/{top.id}/tree")
    assert status == 200 and [c["id"] for c in tree["children"]] == [made["id"]]
    conforms(app, "ObjectiveTree", tree)
    # now private: a seller of another team no longer sees it, and gets 404 (not 403)
    assert call(w.outsider, "GET", f"/objectives/{made['id']}")[0] == 404
    status, tree = call(w.outsider, "GET", f"/objectives/{top.id}/tree")
    assert tree["children"] == [] and tree["hidden_children"] == 1


def test_key_results_check_ins_and_decomposition(app, w, call):
    mine = company_objective(w)
    status, kr = call(w.hr, "POST", f"/objectives/{mine.id}/key-results",
                      {"title": "New listings", "kind": "manual", "start_value": 0, "target": "90"})
    assert status == 201 and kr["progress"] is None and kr["at_risk"] is False
    conforms(app, "KeyResult", kr)
    status, entry = call(w.gm, "POST", f"/key-results/{kr['id']}/check-ins",
                         {"value": "30", "confidence": "at_risk", "note": "slow", "private_note": "hiring"})
    assert status == 201 and entry["value"] == "30.000000" and entry["private_note"] == "hiring"
    conforms(app, "CheckIn", entry)
    status, again = call(w.gm, "GET", f"/key-results/{kr['id']}")
    assert again["progress"] == "33.33" and again["confidence"] == "at_risk" and again["at_risk"]
    status, seen = call(w.people[0], "GET", f"/key-results/{kr['id']}/check-ins")
    assert status == 200 and seen["check_ins"][0]["note"] == "slow" and seen["check_ins"][0]["private_note"] is None
    conforms(app, "CheckInList", seen)
    status, split = call(w.hr, "POST", f"/key-results/{kr['id']}/decompose",
                         {"method": "equal", "children": [{"owner_id": w.head.id}, {"owner_id": w.ops_head.id},
                                                          {"owner_id": w.people[0].id}]})
    assert status == 201 and split["amounts"] == ["30.00", "30.00", "30.00"] and split["difference"] == "0"
    conforms(app, "Decomposition", split)
    assert db.session.query(KeyResult).filter_by(parent_kr_id=kr["id"]).count() == 3
    status, patched = call(w.hr, "PATCH", f"/key-results/{kr['id']}", {"target": "60"})
    assert status == 200 and patched["progress"] == "50.00" and patched["children"]


def test_refusals_are_json_with_code_and_field(w, call):
    status, error = call(w.people[0], "POST", "/objectives", {"title": "x", "level": "company", "period": QUARTER})
    assert status == 403 and error["error"]["code"] == "forbidden"
    status, error = call(w.people[0], "POST", "/objectives", {"title": "x", "level": "person", "period": "2026-Q7"})
    assert status == 422 and error["error"]["code"] == "invalid_period" and error["error"]["field"] == "period"
    status, error = call(w.people[0], "POST", "/objectives", {"title": "x", "level": "person", "period": QUARTER,
                                                              "colour": "red"})
    assert status == 422 and error["error"]["code"] == "invalid_field"
    mine = company_objective(w)
    status, error = call(w.hr, "POST", f"/objectives/{mine.id}/key-results",
                         {"title": "GMV", "kind": "metric", "metric_key": "gmv", "target": "5"})
    assert status == 422 and error["error"] == {"code": "no_scope", "field": "scope",
                                                "message": "Choose at least one store."}
    assert call(w.people[0], "PATCH", f"/objectives/{mine.id}", {"title": "Mine now"})[0] == 403
    assert call(w.people[0], "GET", "/objectives/999999")[0] == 404
    refusals = db.session.query(AuditEvent).filter(AuditEvent.action.in_(["workflow.refused", "access.denied"]))
    assert refusals.count() >= 3
