"""Screens, API and services answer "who may do what on this scorecard" the same way.

For scorecards in every state (and superseded, acknowledged, with a pending change
request, owned by HR) and for everyone around them, the forms and buttons on the
scorecard page and the API's allowed actions and edits must equal
services.permitted(), which the services' guards use; workflow.EDITS and
TRANSITIONS are themselves checked against an independent table in
tests/unit/test_workflow.py.
"""

import re

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action, Edit
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import HRFactory, metric_item, walk_to
from tests.factories import ClientUserFactory, UserFactory

# form action (after /scorecards/<id>) -> what it does
FORM_PATHS = {
    "targets": Edit.EDIT_TARGETS,
    "self-review": Edit.SELF_REVIEW,
    "manager-review": Edit.MANAGER_REVIEW,
    "change-requests": Edit.REQUEST_CHANGE,
    "calibrate": Edit.CALIBRATE,
    "acknowledge": Edit.ACKNOWLEDGE,
}
FORM_RE = re.compile(r'<form[^>]*\saction="/scorecards/(\d+)/([^"]+)"')
# lock is a link to its confirmation page (cycles.lock_confirm), not a form on the scorecard
LOCK_RE = re.compile(r'<a[^>]*\shref="/cycles/\d+/lock\?scorecard_id=(\d+)"')


def shown_on_page(html, card_id):
    """(actions, edits) whose forms the scorecard page shows for this card."""
    actions, edits = set(), set()
    for found_id, path in FORM_RE.findall(html):
        assert int(found_id) == card_id, path
        if path.startswith("appeal/"):
            continue  # appeal steps: compared with services.appeal_permitted in test_appeal_screens
        if path.startswith("actions/"):
            actions.add(Action(path.removeprefix("actions/")))
        elif path.startswith("change-requests/"):
            edits.add(Edit.DECIDE_CHANGE)
        else:
            edits.add(FORM_PATHS[path])
    for found_id in LOCK_RE.findall(html):
        assert int(found_id) == card_id
        actions.add(Action.LOCK)
    return actions, edits


@pytest.fixture
def people(team):
    hr_owner = HRFactory(position=team.position, manager=team.manager)
    services.add_participants(team.cycle, team.hr, [{"person_id": hr_owner.id}])
    services.start_cycle(team.cycle.id, team.hr.id)
    db.session.commit()
    return {
        "owner": team.people[0], "manager": team.manager, "boss": team.boss, "peer": team.people[1],
        "hr": team.hr, "admin": team.admin, "hr_owner": hr_owner,
        "stranger": UserFactory(), "client": ClientUserFactory(),
    }


def to_situation(team, people, situation):
    """Drive a scorecard into `situation`; returns it."""
    owner = people["hr_owner"] if situation == "hr_owned_calibration" else people["owner"]
    card = team.card(owner)
    steps = {
        "draft": lambda: None,
        "returned": lambda: (walk_to(team, owner, S.SUBMITTED), services.return_targets(
            card, team.manager, "raise the target")),
        "submitted": lambda: walk_to(team, owner, S.SUBMITTED),
        "hr_approval": lambda: (walk_to(team, owner, S.SUBMITTED), team.cycle.__setattr__(
            "hr_approval_required", True), services.approve(card, team.manager)),
        "approved": lambda: walk_to(team, owner, S.APPROVED),
        "change_by_owner": lambda: (walk_to(team, owner, S.APPROVED), services.request_change(
            card, owner, {metric_item(card).id: {"target": "95000"}}, "price war")),
        "change_by_manager": lambda: (walk_to(team, owner, S.MANAGER_REVIEW), services.request_change(
            card, team.manager, {metric_item(card).id: {"target": "95000"}}, "price war")),
        "self_review": lambda: walk_to(team, owner, S.SELF_REVIEW),
        "manager_review": lambda: walk_to(team, owner, S.MANAGER_REVIEW),
        "calibration": lambda: walk_to(team, owner, S.CALIBRATION),
        "hr_owned_calibration": lambda: walk_to(team, owner, S.CALIBRATION),
        "locked": lambda: walk_to(team, owner, S.LOCKED),
        "acknowledged": lambda: (walk_to(team, owner, S.LOCKED), services.acknowledge(card, owner)),
        "superseded": lambda: (walk_to(team, owner, S.LOCKED), services.reopen(card, team.admin, "wrong FX")),
    }
    steps[situation]()
    db.session.commit()
    return card


SITUATIONS = [
    "draft", "returned", "submitted", "hr_approval", "approved", "change_by_owner", "change_by_manager",
    "self_review", "manager_review", "calibration", "hr_owned_calibration", "locked", "acknowledged",
    "superseded",
]


@pytest.mark.parametrize("situation", SITUATIONS)
def test_page_forms_and_api_equal_permitted(team, people, login, situation):
    card = to_situation(team, people, situation)
    offered = set()
    for who, user in people.items():
        permitted = services.permitted(card, user)
        expected = set(permitted.actions), set(permitted.edits)
        offered |= expected[0] | expected[1]
        me = login(user)  # GETs only: no CSRF token needed (the Browser fixture reads one from the home page)
        page = me.get(f"/scorecards/{card.id}")
        api = me.get(f"/api/v1/scorecards/{card.id}")
        if page.status_code in (403, 404):  # may not see it: then may do nothing on it
            assert api.status_code == page.status_code and expected == (set(), set()), who
            continue
        assert shown_on_page(page.get_data(as_text=True), card.id) == expected, (situation, who)
        body = api.get_json()
        assert (set(body["allowed_actions"]), set(body["allowed_edits"])) == expected, (situation, who)
    assert offered == OFFERED[situation]


# what somebody may do in each situation (so the grid above is not vacuously empty)
OFFERED = {
    "draft": {Action.SUBMIT, Edit.EDIT_TARGETS},
    "returned": {Action.SUBMIT, Edit.EDIT_TARGETS},
    "submitted": {Action.APPROVE, Action.RETURN_},
    "hr_approval": {Action.HR_APPROVE, Action.RETURN_},
    "approved": {Action.OPEN_REVIEW, Edit.REQUEST_CHANGE},
    "change_by_owner": {Action.OPEN_REVIEW, Edit.DECIDE_CHANGE},
    "change_by_manager": {Action.RETURN_SELF_REVIEW, Action.SUBMIT_MANAGER_REVIEW, Edit.MANAGER_REVIEW,
                          Edit.DECIDE_CHANGE},
    "self_review": {Action.SUBMIT_SELF_REVIEW, Edit.SELF_REVIEW, Edit.REQUEST_CHANGE},
    "manager_review": {Action.RETURN_SELF_REVIEW, Action.SUBMIT_MANAGER_REVIEW, Edit.MANAGER_REVIEW,
                       Edit.REQUEST_CHANGE},
    "calibration": {Action.LOCK, Edit.CALIBRATE},
    "hr_owned_calibration": {Action.LOCK, Edit.CALIBRATE},
    "locked": {Action.REOPEN, Edit.ACKNOWLEDGE},
    "acknowledged": {Action.REOPEN},
    "superseded": set(),
}


def test_calibration_page_offers_the_grade_form_only_to_who_may_calibrate(team, people, browser):
    cards = [to_situation(team, people, s) for s in ("calibration", "hr_owned_calibration")]
    url = f"/cycles/{team.cycle.id}/calibration"
    for who, may in (("hr", {0, 1}), ("admin", set()), ("hr_owner", {0})):
        page = browser(people[who]).page(url)
        shown = {i for i, card in enumerate(cards) if f"/scorecards/{card.id}/calibrate" in page}
        assert shown == may, who
    refused = browser(people["admin"]).post(f"/scorecards/{cards[0].id}/calibrate",
                                            {"grade": "A", "reason": "quota", "view": "calibration"}, htmx=True)
    assert refused.status_code == 422
