"""Review drafts: typed work is kept while the person types (htmx autosave), comes back after a
reload, stays private to its author, ends when the review is saved or the draft discarded, and is
audited once per draft (started, ended), not once per autosave."""

import re

from sqlalchemy import select

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, ReviewDraft
from tests.appraisal.factories import manual_items, metric_item, walk_to
from tests.web.test_forms import attrs


def draft_events(card):
    query = select(AuditEvent.action).where(AuditEvent.entity == "scorecard", AuditEvent.entity_id == str(card.id),
                                            AuditEvent.action.like("draft.%")).order_by(AuditEvent.seq)
    return list(db.session.execute(query).scalars())


def autosave(who, card, stage, values):
    return who.post(f"/scorecards/{card.id}/drafts/{stage}",
                    {**values, "expected_version": card.version_id}, htmx=True)


def test_a_self_review_draft_survives_a_reload_and_stays_private(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    teamwork = manual_items(card)[0]
    me = browser(person)
    r = autosave(me, card, "self_review", {"self_comment": "Half written", f"items-{teamwork.id}-self_score": "4"})
    assert r.status_code == 200 and "Draft saved" in r.get_data(as_text=True)
    r = autosave(me, card, "self_review", {"self_comment": "Half written, then more",
                                           f"items-{teamwork.id}-self_score": "4"})
    assert r.status_code == 200
    html = me.page(f"/scorecards/{card.id}")
    assert "Half written, then more</textarea>" in html
    assert attrs(html, f"items-{teamwork.id}-self_score")["value"] == "4"
    assert "Your unsaved draft from" in html and "Discard draft" in html
    status = re.search(r'<p class="draft-status"[^>]*>', html).group(0)
    assert 'hx-target="this"' in status  # not the form's target: an autosave must not replace the form
    db.session.refresh(card)
    assert card.self_comment is None  # a draft is not the review
    assert "Half written" not in browser(team.manager).page(f"/scorecards/{card.id}")
    assert draft_events(card) == ["draft.started"]  # two autosaves, one audit event


def test_saving_the_review_ends_the_draft(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    me = browser(person)
    autosave(me, card, "self_review", {"self_comment": "Draft text"})
    r = me.post(f"/scorecards/{card.id}/self-review",
                {"self_comment": "Final text", "expected_version": card.version_id}, htmx=True)
    assert r.status_code == 200
    assert db.session.execute(select(ReviewDraft)).first() is None
    assert draft_events(card) == ["draft.started", "draft.saved"]
    assert "Final text</textarea>" in me.page(f"/scorecards/{card.id}")


def test_a_review_saved_through_the_services_ends_the_draft_too(team, browser):
    """The API saves through the same services as the page: no face can leave a draft behind."""
    card = walk_to(team, team.people[1], S.MANAGER_REVIEW)
    autosave(browser(team.manager), card, "manager_review", {"manager_comment": "Typing"})
    db.session.refresh(card)
    services.save_manager_review(card, team.manager, comment="Saved elsewhere", expected_version=card.version_id)
    db.session.commit()
    assert db.session.execute(select(ReviewDraft)).first() is None
    assert draft_events(card) == ["draft.started", "draft.saved"]


def test_discarding_a_draft_shows_the_saved_review_again(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    me = browser(person)
    autosave(me, card, "self_review", {"self_comment": "Not this"})
    r = me.post(f"/scorecards/{card.id}/drafts/self_review/discard",
                {"expected_version": card.version_id}, htmx=True)
    assert r.status_code == 200 and "Draft discarded." in r.get_data(as_text=True)
    assert "Not this" not in r.get_data(as_text=True)
    assert draft_events(card) == ["draft.started", "draft.discarded"]


def test_no_draft_of_a_review_one_may_not_write(team, browser):
    person = team.people[0]
    card = walk_to(team, person, S.SELF_REVIEW)
    r = autosave(browser(team.manager), card, "self_review", {"self_comment": "Words in their mouth"})
    assert r.status_code in (403, 422)
    r = autosave(browser(person), card, "calibrate", {"reason": "x"})
    assert r.status_code == 404
    assert db.session.execute(select(ReviewDraft)).first() is None


def test_the_conflict_notice_shows_what_was_typed_beside_what_is_saved(team, browser):
    person = team.people[0]
    card = team.card(person)
    gmv, seen = metric_item(card), card.version_id
    browser(team.manager).post(f"/scorecards/{card.id}/targets",
                               {f"items-{gmv.id}-target": "99000", "expected_version": seen})
    r = browser(person).post(f"/scorecards/{card.id}/targets", {
        f"items-{gmv.id}-target": "123456", f"items-{gmv.id}-threshold": "80000", "expected_version": seen},
        htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    table = re.search(r'<table class="typed-beside-current">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr><td>([^<]*)</td><td><output>([^<]*)</output></td><td>([^<]*)</td></tr>", table)
    assert rows == [("GMV · Target", "123456", "99000")]  # the unchanged threshold is not listed
