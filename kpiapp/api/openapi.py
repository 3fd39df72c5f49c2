"""The OpenAPI 3.1 description of /api/v1, written by hand next to the routes it describes."""

from kpiapp.appraisal.workflow import Action, Edit, ScorecardState

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


ERRORS = {"401": _error("No valid bearer token"), "403": _error("Not allowed"), "404": _error("Not found")}


def _ok(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _id(name):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


NUMBER = {"type": ["string", "null"], "description": "a decimal number as a string"}


def openapi_document():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kpiapp API",
            "version": "1.0.0",
            "description": "Cycles and scorecards. Authenticate with `Authorization: Bearer <token>`; "
            "create tokens on the account page. Errors are "
            '`{"error": {"code", "message"}}` with stable codes.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/cycles": {
                "get": {
                    "summary": "Cycles you take part in (all, for HR)",
                    "operationId": "listCycles",
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "properties": {"cycles": {"type": "array", "items": _ref("Cycle")}},
                            }
                        ),
                        **ERRORS,
                    },
                }
            },
            "/cycles/{cycle_id}": {
                "get": {
                    "summary": "One cycle with scorecard counts by state",
                    "operationId": "getCycle",
                    "parameters": [_id("cycle_id")],
                    "responses": {"200": _ok(_ref("Cycle")), **ERRORS},
                }
            },
            "/scorecards": {
                "get": {
                    "summary": "Scorecards you may see (latest versions)",
                    "operationId": "listScorecards",
                    "parameters": [
                        {"name": "cycle_id", "in": "query", "schema": {"type": "integer"}},
                        {
                            "name": "state",
                            "in": "query",
                            "schema": {"enum": [str(s) for s in ScorecardState]},
                        },
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "properties": {
                                    "scorecards": {"type": "array", "items": _ref("ScorecardSummary")}
                                },
                            }
                        ),
                        **ERRORS,
                    },
                }
            },
            "/scorecards/{scorecard_id}": {
                "get": {
                    "summary": "One scorecard with items, events and the actions you may take",
                    "operationId": "getScorecard",
                    "parameters": [_id("scorecard_id")],
                    "responses": {"200": _ok(_ref("Scorecard")), **ERRORS},
                }
            },
            "/scorecards/{scorecard_id}/actions/{action}": {
                "post": {
                    "summary": "Move a scorecard through the workflow",
                    "operationId": "scorecardAction",
                    "parameters": [
                        _id("scorecard_id"),
                        {
                            "name": "action",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": [str(a) for a in Action]},
                        },
                    ],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "reason": {"type": "string"},
                                        "expected_version": {
                                            "type": "integer",
                                            "description": "version_id you last saw; 409 if it changed",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _ok(
                            _ref("Scorecard"),
                            "The scorecard after the step (a reopen returns the new version)",
                        ),
                        **ERRORS,
                        "409": _error("Changed by someone else, or locked"),
                        "422": _error("Refused: wrong state, missing reason, guard failed"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "changed_by": {"type": ["string", "null"]},
                                "changed_at": {"type": ["string", "null"]},
                            },
                        }
                    },
                },
                "Cycle": {
                    "type": "object",
                    "required": ["id", "name", "status"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "kind": {"type": "string"},
                        "status": {"type": "string"},
                        "period_start": {"type": "string", "format": "date"},
                        "period_end": {"type": "string", "format": "date"},
                        "hr_approval_required": {"type": "boolean"},
                        "deadlines": {"type": "object"},
                        "grade_table": {"type": "array"},
                        "scorecards_by_state": {"type": "object"},
                    },
                },
                "ScorecardSummary": {
                    "type": "object",
                    "required": ["id", "state", "version_id"],
                    "properties": {
                        "id": {"type": "integer"},
                        "cycle_id": {"type": "integer"},
                        "person": {"type": "object"},
                        "version": {"type": "integer"},
                        "state": {"enum": [str(s) for s in ScorecardState]},
                        "version_id": {"type": "integer"},
                        "total": NUMBER,
                        "grade": {"type": ["string", "null"]},
                        "locked_at": {"type": ["string", "null"]},
                    },
                },
                "Scorecard": {
                    "allOf": [
                        _ref("ScorecardSummary"),
                        {
                            "type": "object",
                            "properties": {
                                "superseded": {"type": "boolean"},
                                "allowed_actions": {
                                    "type": "array",
                                    "items": {"enum": [str(a) for a in Action]},
                                },
                                "allowed_edits": {
                                    "type": "array",
                                    "items": {"enum": [str(e) for e in Edit]},
                                },
                                "items": {"type": "array", "items": {"type": "object"}},
                                "events": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ]
                },
            },
        },
    }
