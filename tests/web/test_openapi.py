"""The generated OpenAPI document: complete, valid, and true to what the API returns."""

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.web.test_cycle_walk import api, new_token

RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def api_operations(app):
    """(path, method) for every /api/v1 rule, read from the URL map independently of apispec."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = RULE_ARGUMENT.sub(r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield path, method.lower()


def test_every_api_route_is_in_the_document(app, client):
    paths = document(client)["paths"]
    operations = set(api_operations(app))
    assert len(operations) >= 7
    missing = {(path, method) for path, method in operations if method not in paths.get(path, {})}
    assert not missing


def test_document_is_valid_openapi_3_1(client):
    doc = document(client)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_path_parameters_come_from_the_rules(client):
    parameters = document(client)["paths"]["/scorecards/{scorecard_id}/actions/{action}"]["parameters"]
    by_name = {p["name"]: p["schema"] for p in parameters}
    assert by_name["scorecard_id"] == {"type": "integer"}
    assert "lock" in by_name["action"]["enum"]


def conforms(doc, name, body):
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_responses_match_the_documented_schemas(team, browser, app, client):
    doc = document(client)
    person = team.people[0]
    token = new_token(browser(person))
    card = team.card(person)
    http = app.test_client()
    for path, schema in [
        ("/cycles", "CycleList"),
        (f"/cycles/{team.cycle.id}", "Cycle"),
        (f"/cycles/{team.cycle.id}/results", "Results"),
        ("/scorecards", "ScorecardList"),
        (f"/scorecards/{card.id}", "Scorecard"),
        ("/scorecards/999999", "Error"),
    ]:
        conforms(doc, schema, api(http, token, "GET", path)[1])
    status, body = api(http, token, "POST", f"/scorecards/{card.id}/actions/submit", {"reason": None})
    conforms(doc, "Scorecard" if status == 200 else "Error", body)


def test_documented_schema_rejects_an_undocumented_field(client):
    doc = document(client)
    with pytest.raises(jsonschema.ValidationError):
        conforms(doc, "ScorecardSummary", {"id": 1, "state": "draft", "version_id": 1, "salary": "9"})


@pytest.mark.parametrize(
    "body, code",
    [
        ({"expected_version": True}, "invalid_value"),
        ({"expected_version": "3"}, "invalid_value"),
        ({"reason": 5}, "invalid_value"),
        ({"state": "locked"}, "invalid_field"),
        ([1, 2], "invalid_field"),
    ],
)
def test_action_body_is_checked_by_its_schema(team, browser, app, body, code):
    person = team.people[0]
    token = new_token(browser(person))
    card = team.card(person)
    status, answer = api(app.test_client(), token, "POST", f"/scorecards/{card.id}/actions/submit", body)
    assert status == 422 and answer["error"]["code"] == code


def test_docs_page_loads_swagger_ui_same_origin_without_inline_script(client):
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "/static/vendor/swagger-ui-bundle.js" in html and "/static/api-docs.js" in html
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
