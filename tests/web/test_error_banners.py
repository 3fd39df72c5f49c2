"""A refusal reads as one sentence in the user's language; its code and the service's English
words go to the log (and the API), not into the banner."""
import logging

import pytest

from kpiapp.extensions import db
from tests.appraisal.factories import metric_item

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def submitted_card(team, browser):
    alice = team.people[0]
    card = team.card(alice)
    me = browser(alice)
    me.post(f"/scorecards/{card.id}/targets",
            {f"items-{metric_item(card).id}-target": "105000", "expected_version": card.version_id})
    me.post(f"/scorecards/{card.id}/actions/submit", {"expected_version": card.version_id})
    team.manager.locale = "zh_CN"
    db.session.commit()
    return card


@pytest.mark.parametrize("htmx", [True, False])
def test_a_refusal_is_one_chinese_sentence(team, browser, caplog, htmx):
    card = submitted_card(team, browser)
    boss = browser(team.manager)
    caplog.set_level(logging.INFO)
    response = boss.post(f"/scorecards/{card.id}/actions/return", {"expected_version": card.version_id},
                         htmx=htmx, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "请填写原因。" in body
    assert "needs a reason" not in body and "reason_required" not in body
    assert "refused reason_required: 'return' needs a reason." in caplog.text


def test_every_appraisal_refusal_has_words():
    """Each code the appraisal services, workflow and scoring raise has a sentence for users."""
    import re
    from pathlib import Path

    from kpiapp.appraisal.routes.common import ERROR_TEXT
    from kpiapp.appraisal.workflow import EDITS

    root = Path(__file__).resolve().parents[2] / "kpiapp/appraisal"
    raised = set()
    for name in ("services.py", "workflow.py", "scoring.py"):
        raised |= set(re.findall(r'(?:Validation|Transition|Scoring|NotFound|Forbidden)Error\(\s*"(\w+)"',
                                 (root / name).read_text()))
    raised |= {rule.state_code for rule in EDITS.values()} | {"not_allowed_in_state", "forbidden"}
    assert raised - set(ERROR_TEXT) == set()
