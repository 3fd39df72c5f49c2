"""The demo has a visible reminder history on the running cycle's health page (seeded by
running send_reminders for a few days of 2026 Q4 and the at-risk digest)."""
from collections import Counter

import pytest
from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import Cycle, ReminderLog, User
from kpiapp.models.appraisal import CycleStatus
from tests.demo_db import demo_app
from tests.helpers import signed_in_client


@pytest.fixture(scope="module")
def zh_demo(demo_template, tmp_path_factory):
    with demo_app(demo_template, tmp_path_factory.mktemp("reminders")) as app:
        yield app


def test_demo_reminder_history(zh_demo):
    with zh_demo.app_context():
        q4 = db.session.execute(select(Cycle).where(Cycle.status == CycleStatus.running)).scalar_one()
        rows = db.session.execute(select(ReminderLog).where(ReminderLog.cycle_id == q4.id)).scalars().all()
        kinds = Counter(r.kind for r in rows)
        assert {"before", "due", "overdue", "escalation"} <= set(kinds)
        assert {r.stage for r in rows} >= {"targets", "approval"}
        hr = db.session.execute(select(User).where(User.email == "hr@demo.kpiapp.org")).scalar_one()
        page = signed_in_client(zh_demo, hr, "kpi-demo-2026").get(f"/cycles/{q4.id}/health").get_data(as_text=True)
    assert "已发送的提醒" in page and page.count('<tr id="reminder-') == min(len(rows), 50)
    assert "已升级至上级" in page
