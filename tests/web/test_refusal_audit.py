"""Refused requests leave a trace: object-level 404s, workflow refusals, race losers, CSRF failures;
identical refusals within a minute are one event (the rest counted), so a flood cannot flood the log."""
import json
from datetime import timedelta

from sqlalchemy import select

from kpiapp import audit
from kpiapp.audit import Actor, record_refusal, verify_chain
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, AuditRefusal
from tests.appraisal.factories import metric_item
from tests.factories import UserFactory


def refusal_events(action=None):
    actions = [action] if action else ["access.denied", "workflow.refused"]
    query = select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq)
    return db.session.execute(query).scalars().all()


def only_event(action):
    events = refusal_events()
    assert [e.action for e in events] == [action]
    return events[0], json.loads(events[0].after_json)


def test_object_level_404_is_audited(team, browser):
    card, outsider = team.card(team.people[0]), UserFactory()
    response = browser(outsider).get(f"/scorecards/{card.id}")
    assert response.status_code == 404
    event, after = only_event("access.denied")
    assert (event.actor_id, event.actor, event.entity, event.entity_id, event.ip) == (
        outsider.id, outsider.email, "scorecard", str(card.id), "127.0.0.1")
    assert (after["reason"], after["path"], after["method"]) == (
        "object:scorecard.view", f"/scorecards/{card.id}", "GET")


def test_object_level_404_on_the_api_is_audited(team, browser, app):
    from tests.web.test_cycle_walk import new_token

    card, outsider = team.card(team.people[0]), UserFactory()
    token = new_token(browser(outsider))
    response = app.test_client().get(f"/api/v1/scorecards/{card.id}",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    event, after = only_event("access.denied")
    assert (event.actor_id, event.entity_id, after["reason"]) == (
        outsider.id, str(card.id), "object:scorecard.view")


def test_workflow_refusal_is_audited(team, browser):
    person = team.people[0]
    card = team.card(person)
    response = browser(team.manager).post(f"/scorecards/{card.id}/actions/approve",
                                          {"expected_version": card.version_id}, htmx=True)
    assert response.status_code == 422
    event, after = only_event("workflow.refused")
    assert (event.actor_id, event.entity, event.entity_id, event.ip) == (
        team.manager.id, "scorecard", str(card.id), "127.0.0.1")
    assert (after["reason"], after["status"]) == ("not_allowed_in_state", 422)


def test_race_loser_is_audited(team, browser):
    person = team.people[0]
    card = team.card(person)
    seen = card.version_id
    browser(team.manager).post(f"/scorecards/{card.id}/targets",
                               {f"items-{metric_item(card).id}-target": "90000", "expected_version": seen})
    response = browser(person).post(f"/scorecards/{card.id}/actions/submit", {"expected_version": seen},
                                    htmx=True)
    assert response.status_code == 409
    event, after = only_event("workflow.refused")
    assert (event.actor_id, event.entity_id, after["reason"], after["status"]) == (
        person.id, str(card.id), "conflict", 409)


def test_api_workflow_refusal_is_audited(team, browser, app):
    from tests.web.test_cycle_walk import new_token

    card = team.card(team.people[0])
    token = new_token(browser(team.manager))
    response = app.test_client().post(f"/api/v1/scorecards/{card.id}/actions/approve", json={},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    event, after = only_event("workflow.refused")
    assert (event.actor_id, event.entity_id, after["reason"]) == (team.manager.id, str(card.id),
                                                                  "not_allowed_in_state")


def test_csrf_failure_is_audited(team, login):
    person = team.people[0]
    card = team.card(person)
    client = login(person)
    assert client.post(f"/scorecards/{card.id}/actions/submit").status_code == 400
    event, after = only_event("access.denied")
    assert (event.actor_id, event.entity, event.ip, after["reason"], after["path"]) == (
        person.id, "request", "127.0.0.1", "csrf_failed", f"/scorecards/{card.id}/actions/submit")


def test_csrf_failure_on_the_api_is_audited(team, login):
    person = team.people[0]
    card = team.card(person)
    response = login(person).post(f"/api/v1/scorecards/{card.id}/actions/submit", json={})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
    event, after = only_event("access.denied")
    assert (event.actor_id, after["reason"]) == (person.id, "csrf_failed")


def test_a_flood_of_identical_refusals_is_one_event_with_a_count(team, browser, monkeypatch):
    minute = audit.current_minute()
    monkeypatch.setattr(audit, "current_minute", lambda: minute)  # 50 requests may straddle a minute
    card, outsider = team.card(team.people[0]), UserFactory()
    client = browser(outsider)
    for _ in range(50):
        assert client.get(f"/scorecards/{card.id}").status_code == 404
    event, after = only_event("access.denied")
    bucket = db.session.execute(select(AuditRefusal)).scalars().one()
    assert (bucket.count, bucket.key, bucket.actor_id, bucket.reason) == (
        50, after["throttle_key"], outsider.id, "object:scorecard.view")
    assert verify_chain(db.session).ok


def test_the_next_minute_opens_a_new_event(app, monkeypatch):
    actor = Actor(1, "alice@example.com", "10.0.0.1")
    start = audit.current_minute()
    for minute in (start, start, start + timedelta(minutes=1), start + timedelta(minutes=1)):
        monkeypatch.setattr(audit, "current_minute", lambda minute=minute: minute)
        record_refusal(db.session, "access.denied", "scorecard", 7, "object:scorecard.view", actor=actor)
    db.session.commit()
    assert len(refusal_events()) == 2
    counts = db.session.execute(select(AuditRefusal.count).order_by(AuditRefusal.minute)).scalars().all()
    assert counts == [2, 2]


def test_different_refusals_are_not_merged(app, monkeypatch):
    minute = audit.current_minute()
    monkeypatch.setattr(audit, "current_minute", lambda: minute)
    alice, bob = Actor(1, "alice@example.com", "10.0.0.1"), Actor(2, "bob@example.com", "10.0.0.2")
    calls = [(alice, "scorecard", "object:scorecard.view")] * 3 + [
        (bob, "scorecard", "object:scorecard.view"),
        (alice, "scorecard", "conflict"),
        (alice, "cycle", "object:scorecard.view"),
    ]
    written = [record_refusal(db.session, "access.denied", entity, 7, reason, actor=actor)
               for actor, entity, reason in calls]
    db.session.commit()
    assert written == [True, False, False, True, True, True]
    assert len(refusal_events()) == 4


def test_anonymous_callers_are_told_apart_by_address(app, monkeypatch):
    minute = audit.current_minute()
    monkeypatch.setattr(audit, "current_minute", lambda: minute)
    for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        record_refusal(db.session, "access.denied", "request", None, "csrf_failed",
                       actor=Actor(None, "anonymous", ip))
    db.session.commit()
    assert [e.ip for e in refusal_events()] == ["10.0.0.1", "10.0.0.2"]
