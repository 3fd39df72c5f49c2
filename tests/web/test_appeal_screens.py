"""Appeals through the screens: raised by the employee, in the manager's and HR's inbox,
answered, seen by the employee, closed by HR; refused steps; CSRF; history."""
import re

import pytest

from kpiapp.appraisal.appeal_flow import AppealStep
from kpiapp.appraisal.appeal_flow import AppealState as AS
from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import AuditEvent
from tests.appraisal.factories import walk_to

pytestmark = pytest.mark.rollback


@pytest.fixture
def appealed(team, browser):
    alice = team.people[0]
    card = walk_to(team, alice, S.LOCKED)
    me = browser(alice)
    objection = {"objection": "y", "comment": "GMV excluded my B2B store"}
    r = me.post(f"/scorecards/{card.id}/acknowledge", objection)
    assert r.status_code == 302
    return card, me


def test_appeal_walk(team, browser, appealed):
    card, me = appealed
    url = f"/scorecards/{card.id}"
    boss, hr = browser(team.manager), browser(team.hr)
    page = me.page(url)
    assert "Appeal" in page and "GMV excluded my B2B store" in page and "No reply yet." in page
    assert "Answer the appeal" not in page  # the owner does not answer
    inbox = boss.page("/inbox/")
    assert 'class="appeal-row"' in inbox and f"{url}#scorecard-{card.id}-appeal" in inbox
    assert 'class="appeal-row"' in hr.page("/inbox/")
    assert 'class="appeal-row"' not in me.page("/inbox/")

    # an empty reply keeps the form and says why; then the manager answers with htmx
    r = boss.post(f"{url}/appeal/answer", {"text": " "}, htmx=True)
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = boss.post(f"{url}/appeal/answer", {"text": "B2B is outside the KPI scope."}, htmx=True)
    assert r.status_code == 200 and "Reply sent." in r.get_data(as_text=True)
    assert r.headers["HX-Trigger"] == "scorecard-changed"
    page = me.page(url)
    assert "B2B is outside the KPI scope." in page and "Answered" in page
    assert 'class="appeal-row"' not in boss.page("/inbox/")

    # the manager may not close; HR closes; the result stays locked
    assert boss.post(f"{url}/appeal/close", {"text": ""}).status_code == 422
    assert services.appeal_of(card).status == AS.ANSWERED
    assert "Close the appeal" in hr.page(url)
    assert hr.post(f"{url}/appeal/close", {"text": "Result stands."}).status_code == 302
    db.session.expire_all()
    appeal = services.appeal_of(card)
    assert appeal.status == AS.CLOSED and card.state == S.LOCKED
    history = me.page(url)
    for line in ("Appeal raised", "Appeal answered", "Appeal closed", "Acknowledged with an objection"):
        assert line in history
    refused = db.session.query(AuditEvent).filter_by(action="workflow.refused").count()
    assert refused >= 1  # the manager's refused close was audited


def test_appeal_reopen_by_admin_redirects_to_the_new_version(team, browser, appealed):
    card, _me = appealed
    url = f"/scorecards/{card.id}"
    browser(team.hr).post(f"{url}/appeal/answer", {"text": "We will recount."})
    r = browser(team.admin).post(f"{url}/appeal/reopen", {"text": "B2B orders were missing"}, htmx=True)
    new_url = r.headers["HX-Redirect"]
    assert new_url != url and team.card(team.people[0]).version == 2


def test_unknown_step_and_missing_csrf(team, browser, appealed, login):
    card, _me = appealed
    boss = browser(team.manager)
    assert boss.post(f"/scorecards/{card.id}/appeal/raise", {"text": "x"}).status_code == 404
    raw = login(team.manager)
    r = raw.post(f"/scorecards/{card.id}/appeal/answer", data={"text": "no token"})
    assert r.status_code in (400, 403)
    assert services.appeal_of(card).status == AS.OPEN


APPEAL_FORM_RE = re.compile(r'<form[^>]*\saction="/scorecards/(\d+)/appeal/([a-z]+)"')


def test_the_page_offers_exactly_the_permitted_appeal_steps(team, browser, appealed):
    card, _me = appealed
    people = {"owner": team.people[0], "manager": team.manager, "boss": team.boss, "peer": team.people[1],
              "hr": team.hr, "admin": team.admin}
    for state_step in (None, AppealStep.ANSWER):
        if state_step is not None:
            services.answer_appeal(services.appeal_of(card), team.hr, "Checked.")
            db.session.commit()
        for name, user in people.items():
            response = browser(user).get(f"/scorecards/{card.id}")
            if response.status_code == 404:
                assert name == "peer"
                continue
            html = response.get_data(as_text=True)
            found = APPEAL_FORM_RE.findall(html)
            shown = {AppealStep(step) for card_id, step in found if int(card_id) == card.id}
            permitted = services.appeal_permitted(card, user, services.appeal_of(card))
            allowed = set(permitted) - {AppealStep.RAISE}
            assert shown == allowed, (name, state_step)
