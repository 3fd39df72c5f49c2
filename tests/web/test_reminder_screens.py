"""Reminder screens: the settings on the cycle form, and on cycle health what was sent to whom
and when (HR only, paginated, zh and en)."""
from datetime import date, datetime, timedelta, timezone

import pytest
from babel.dates import format_date
from sqlalchemy import select

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import ReminderLog
from kpiapp.reminders import queries, services
from tests.appraisal.factories import make_team, walk_to

pytestmark = pytest.mark.rollback

DUE = date(2026, 12, 31)


@pytest.fixture
def sent_team():
    team = make_team(size=2)
    for person in team.people:
        walk_to(team, person, S.SELF_REVIEW)
    team.cycle.self_review_due = DUE
    db.session.flush()
    for offset in (-3, -1, 0, 1, 3):
        services.send_reminders(DUE + timedelta(days=offset))
    db.session.commit()
    return team


def test_cycle_form_edits_the_reminder_settings(app, browser):
    team = make_team(size=1)
    hr = browser(team.hr)
    form = hr.page(f"/cycles/{team.cycle.id}/edit")
    assert 'name="remind_before"' in form and 'value="3,1"' in form and 'name="escalate_after"' in form
    base = {"name": team.cycle.name}
    r = hr.post(f"/cycles/{team.cycle.id}/edit", {**base, "remind_before": "7, 2", "remind_every": "3",
                                                   "escalate_after": "5"})
    assert r.status_code == 302
    db.session.refresh(team.cycle)
    assert (team.cycle.reminders_on, team.cycle.remind_before, team.cycle.remind_every,
            team.cycle.escalate_after) == (False, "7,2", 3, 5)  # the switch was left off
    r = hr.post(f"/cycles/{team.cycle.id}/edit", {**base, "reminders_on": "y", "remind_before": "3, x",
                                                   "remind_every": "2", "escalate_after": "3"})
    assert r.status_code == 422 and "Whole numbers from 1 to 60, separated by commas." in r.get_data(as_text=True)
    r = hr.post(f"/cycles/{team.cycle.id}/edit", {**base, "targets_due": "2026-10-20"})  # no reminder fields
    db.session.refresh(team.cycle)
    assert r.status_code == 302 and team.cycle.remind_before == "7,2"


@pytest.mark.parametrize("locale, words", [("en", ("Reminders sent", "escalated to the manager", "before the deadline")),
                                           ("zh_CN", ("已发送的提醒", "已升级至上级", "截止前"))])
def test_cycle_health_lists_what_was_sent_to_whom(app, browser, sent_team, locale, words):
    team = sent_team
    team.hr.locale = locale
    db.session.commit()
    page = browser(team.hr).page(f"/cycles/{team.cycle.id}/health")
    rows = db.session.execute(select(ReminderLog).where(ReminderLog.cycle_id == team.cycle.id)).scalars().all()
    assert len(rows) == 12  # 2 people x 5 days + the manager's escalation on day 3, about each of them
    assert page.count('<tr id="reminder-') == 12
    assert all(word in page for word in words)
    assert team.manager.name in page and all(p.name in page for p in team.people)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_cycle_health_writes_every_date_one_way(app, browser, sent_team, locale):
    """The screen walk found the log reading "2026/12/5 09:48 (按 2026年11月26日)" in Chinese: the
    time sent was short, the day it was for and the deadline medium. All are the locale's short
    date now, as the other pages write them."""
    team = sent_team
    team.hr.locale = locale
    db.session.commit()
    page = browser(team.hr).page(f"/cycles/{team.cycle.id}/health")
    log = page[page.index('id="reminder-log"'):]
    days = [DUE + timedelta(days=offset) for offset in (-3, -1, 0, 1, 3)]  # the days they were for
    sent_on = datetime.now(timezone.utc).date()  # a row sent on its own day has no "(for …)"
    assert all(f"{format_date(day, 'short', locale=locale)})" in log for day in days if day != sent_on)
    assert log.count(f">{format_date(DUE, 'short', locale=locale)}</td>") == 12  # each row's deadline
    assert not any(format_date(day, "medium", locale=locale) in log for day in days)
    if locale == "zh_CN":
        assert "年" not in log and "月" not in log


def test_reminder_history_is_hr_only(app, browser, sent_team):
    team = sent_team
    assert "reminder-log" not in browser(team.admin).page(f"/cycles/{team.cycle.id}/health")
    assert browser(team.manager).get(f"/cycles/{team.cycle.id}/health").status_code in (403, 404)


def test_reminder_history_pages_by_id(app, browser, sent_team, monkeypatch):
    team = sent_team
    monkeypatch.setattr(queries, "PAGE_SIZE", 4)
    monkeypatch.setattr(queries.history, "__defaults__", (None, 4))
    first, older = queries.history(team.cycle.id)
    assert len(first) == 4 and older == first[-1].id
    hr = browser(team.hr)
    page = hr.page(f"/cycles/{team.cycle.id}/health")
    assert page.count('<tr id="reminder-') == 4 and f"before={older}" in page
    seen = set()
    before = None
    while True:
        rows, before = queries.history(team.cycle.id, before)
        seen |= {r.id for r in rows}
        if before is None:
            break
    assert len(seen) == 12
    fragment = hr.get(f"/cycles/{team.cycle.id}/health?before={older}", htmx=True).get_data(as_text=True)
    assert fragment.count('<tr id="reminder-') == 4
