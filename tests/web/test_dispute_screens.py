"""Data disputes through the screens: "Dispute this number" beside an actual, the handlers'
queue, the dispute page and its steps, the lock confirmation blocked while open and HR's
override there; who gets 403 or 404; CSRF; the menu entry."""
import re
from decimal import Decimal

import pytest

from kpiapp.appraisal import disputes
from kpiapp.appraisal.dispute_flow import DisputeState as DS
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Dispute
from tests.appraisal.factories import metric_item, walk_to
from tests.factories import ClientUserFactory, StoreFactory, StoreOwnerFactory, UserFactory

pytestmark = pytest.mark.rollback


@pytest.fixture
def scoped(team):
    """alice's scorecard in calibration, its GMV item measured on a store owned by `owner`."""
    alice = team.people[0]
    card = walk_to(team, alice, S.CALIBRATION)
    store = StoreFactory()
    owner = StoreOwnerFactory(store=store, person=UserFactory()).person
    item = metric_item(card)
    item.scope = [{"store_id": store.id, "share_pct": "100"}]
    db.session.commit()
    return alice, card, item, owner


def raise_one(browser, who, item, text="GMV misses the B2B orders of 12-19 Dec."):
    return browser(who).post(f"/disputes/items/{item.id}", {"text": text})


def test_dispute_walk_from_the_scorecard_to_the_lock(team, browser, scoped):
    alice, card, item, owner = scoped
    me, hr, store_owner = browser(alice), browser(team.hr), browser(owner)
    url = f"/scorecards/{card.id}"
    page = me.page(url)
    assert f'action="/disputes/items/{item.id}"' in page and "Dispute this number" in page
    assert "Data disputes" not in page  # no dispute yet, no section

    r = raise_one(browser, alice, item)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{url}#item-{item.id}")
    dispute = db.session.query(Dispute).one()
    page = me.page(url)
    assert f'href="/disputes/{dispute.id}"' in page and "Disputed" in page
    assert "GMV misses the B2B orders of 12-19 Dec." in page
    assert "keeps this scorecard from being locked" in page
    assert f'action="/disputes/items/{item.id}"' not in page  # one open dispute per number

    # the store owner and HR have it in their queue; the store owner handles it
    assert "GMV misses the B2B orders" in store_owner.page("/disputes/")
    assert "GMV misses the B2B orders" in hr.page("/disputes/")
    detail = store_owner.page(f"/disputes/{dispute.id}")
    assert 'action="/disputes/%d/correct"' % dispute.id in detail and "Reject the dispute" in detail
    assert "Correct the number" not in me.page(f"/disputes/{dispute.id}")

    # the lock confirmation lists alice as blocked, with the reason and an override form
    lock = hr.page(f"/cycles/{card.cycle_id}/lock?scorecard_id={card.id}")
    assert "Not locked: an open data dispute" in lock and "Nobody here is ready to lock." in lock
    assert f'action="/disputes/scorecards/{card.id}/override-lock"' in lock

    # corrected by hand with a reason, then closed by alice: the lock is possible again
    r = store_owner.post(f"/disputes/{dispute.id}/correct", {"value": "", "text": "B2B added."})
    assert r.status_code == 422 and "or type the corrected value" in r.get_data(as_text=True)
    r = store_owner.post(f"/disputes/{dispute.id}/correct", {"value": "118000", "text": "B2B added."})
    assert r.status_code == 302
    db.session.expire_all()
    assert (dispute.status, item.actual) == (DS.CORRECTED, Decimal("118000"))
    assert "118,000" in me.page(url)
    assert me.post(f"/disputes/{dispute.id}/close", {"text": "Thanks."}).status_code == 302
    db.session.expire_all()
    assert dispute.status == DS.CLOSED
    lock = hr.page(f"/cycles/{card.cycle_id}/lock?scorecard_id={card.id}")
    assert "Not locked: an open data dispute" not in lock and f'value="{card.id}:' in lock


def test_hr_overrides_on_the_lock_confirmation(team, browser, scoped):
    alice, card, item, owner = scoped
    raise_one(browser, alice, item)
    hr = browser(team.hr)
    back = f"/cycles/{card.cycle_id}/lock?scorecard_id={card.id}"
    r = hr.post(f"/disputes/scorecards/{card.id}/override-lock", {"text": " ", "scorecard_id": card.id})
    assert r.status_code == 302 and r.headers["Location"].endswith(back)
    assert "Please give a reason." in hr.page(back) or "Not locked: an open data dispute" in hr.page(back)
    r = hr.post(f"/disputes/scorecards/{card.id}/override-lock",
                {"text": "Payroll closes today; the B2B orders go into Q1.", "scorecard_id": card.id})
    assert r.status_code == 302
    lock = hr.page(back)
    assert "Not locked: an open data dispute" not in lock and f'value="{card.id}:' in lock
    dispute = db.session.query(Dispute).one()
    db.session.expire_all()
    assert dispute.status == DS.OPEN and dispute.lock_override_by_id == team.hr.id
    page = hr.page(f"/disputes/{dispute.id}")
    assert "Payroll closes today; the B2B orders go into Q1." in page and "Lock allowed by HR" in page
    # the manager cannot override: not HR
    assert browser(team.manager).post(f"/disputes/scorecards/{card.id}/override-lock",
                                      {"text": "x"}).status_code == 403


def test_who_gets_in(team, browser, scoped, login):
    alice, card, item, owner = scoped
    raise_one(browser, alice, item)
    dispute = db.session.query(Dispute).one()
    outsider, other_owner = UserFactory(), StoreOwnerFactory(person=UserFactory()).person
    client = ClientUserFactory()
    db.session.commit()
    for who in (alice, team.manager, outsider):  # no store, not HR: no queue
        assert browser(who).get("/disputes/").status_code == 403
    assert "No disputes here." in browser(other_owner).page("/disputes/")  # another store's owner
    for who, status in ((outsider, 404), (other_owner, 404), (team.manager, 200), (team.boss, 200),
                        (owner, 200), (team.admin, 200)):
        assert browser(who).get(f"/disputes/{dispute.id}").status_code == status, who
    assert browser(outsider).post(f"/disputes/{dispute.id}/reject", {"text": "no"}).status_code == 404
    r = browser(team.manager).post(f"/disputes/{dispute.id}/reject", {"text": "no"})
    assert r.status_code == 403 and "You are not allowed to do this." in r.get_data(as_text=True)
    assert browser(outsider).post(f"/disputes/items/{item.id}", {"text": "x"}).status_code == 404
    customer = login(client)
    assert customer.get(f"/disputes/{dispute.id}").status_code == 403
    assert customer.get("/disputes/").status_code == 403
    assert browser(alice).get("/disputes/999999").status_code == 404
    assert browser(alice).post(f"/disputes/{dispute.id}/unknown", {"text": "x"}).status_code == 404


def test_csrf_and_a_blank_comment(team, browser, scoped, login):
    alice, card, item, owner = scoped
    bare = login(alice)
    assert bare.post(f"/disputes/items/{item.id}", data={"text": "no token"}).status_code == 400
    me = browser(alice)
    r = me.post(f"/disputes/items/{item.id}", {"text": "   "})
    assert r.status_code == 302
    assert "Please give a reason." in me.page(f"/scorecards/{card.id}")
    assert db.session.query(Dispute).count() == 0


def test_menu_entry_only_for_handlers(team, browser, scoped):
    alice, card, item, owner = scoped
    link = re.compile(r'href="/disputes/"')
    assert link.search(browser(team.hr).page("/"))
    assert link.search(browser(owner).page("/"))
    assert not link.search(browser(alice).page("/"))


def test_queue_pages_by_keyset(team, browser, scoped, monkeypatch):
    alice, card, item, owner = scoped
    bob = team.people[1]
    bobs_item = metric_item(walk_to(team, bob, S.SELF_REVIEW))
    monkeypatch.setattr(disputes, "PAGE_SIZE", 1)
    first = disputes.raise_dispute(item, alice, "first")
    disputes.reject_dispute(first, team.hr, "fine")
    second = disputes.raise_dispute(item, alice, "second")
    third = disputes.raise_dispute(bobs_item, bob, "third")
    db.session.commit()
    hr = browser(team.hr)
    page = hr.page("/disputes/?status=rejected")
    assert f'href="/disputes/{first.id}"' in page and f'href="/disputes/{second.id}"' not in page
    page = hr.page("/disputes/")  # active ones, newest first, one per page here
    assert f'href="/disputes/{third.id}"' in page and f'href="/disputes/{second.id}"' not in page
    assert f'href="/disputes/?before={third.id}" rel="next"' in page
    page = hr.page(f"/disputes/?before={third.id}")
    assert f'href="/disputes/{second.id}"' in page and 'rel="next"' not in page and "First page" in page
    fragment = hr.get("/disputes/?status=open", htmx=True).get_data(as_text=True)
    assert '<div id="dispute-queue">' in fragment and "<html" not in fragment
    # the store owner's queue holds only the disputes on their store's items
    page = browser(owner).page("/disputes/?status=")
    assert f'href="/disputes/{second.id}"' in page and f'href="/disputes/{third.id}"' not in page


def test_no_form_inside_the_targets_form(team, browser):
    """While targets are edited the items sit inside a form: the raise form gets a page of its own."""
    carol = team.people[2]
    card = walk_to(team, carol, S.DRAFT)
    item = metric_item(card)
    me = browser(carol)
    page = me.page(f"/scorecards/{card.id}")
    assert f'href="/disputes/items/{item.id}"' in page and f'action="/disputes/items/{item.id}"' not in page
    new = me.page(f"/disputes/items/{item.id}")
    assert f'action="/disputes/items/{item.id}"' in new and "What is wrong with this number?" in new
    assert me.post(f"/disputes/items/{item.id}", {"text": "The October GMV is empty."}).status_code == 302
    assert "This number already has an open dispute." in me.page(f"/disputes/items/{item.id}")
