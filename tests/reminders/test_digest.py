"""The weekly at-risk digest: one message per manager listing the team's items at risk, once a
week (tracking.alerts' computation); and the connectors hook that waits for its service."""
import importlib.util
import sys
import types
from datetime import datetime, timedelta
from importlib.machinery import ModuleSpec
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.notifications.messages import reader_locale, text
from kpiapp.models import Notification, ReminderLog, User
from kpiapp.reminders import services
from tests.factories import UserFactory
from tests.tracking.test_paces import TODAY, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.rollback


def said(note):
    """What the notification says to its recipient, in their language."""
    return text(note, reader_locale(db.session.get(User, note.user_id)))


def digests(user):
    return db.session.execute(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.key == "reminder.team_at_risk")).scalars().all()


def test_one_digest_per_manager_a_week(world):  # noqa: F811
    _, _, cards = world
    manager = UserFactory(locale="en")
    for card in cards:
        card.person.manager = manager
    db.session.flush()
    assert services.at_risk_digest(TODAY) == 1
    [note] = digests(manager)
    names = sorted(card.person.name for card in cards)
    assert said(note) == ("At the current pace these items of your team will miss their threshold in Nov: "
                            f"{names[0]}: ACoS; {names[1]}: ACoS.")
    assert services.at_risk_digest(TODAY) == 0  # the job ran again
    assert services.at_risk_digest(TODAY + timedelta(days=3)) == 0  # same ISO week
    assert services.at_risk_digest(TODAY + timedelta(days=7)) == 1  # next week, still at risk
    rows = db.session.execute(select(ReminderLog).where(ReminderLog.stage == "at_risk")).scalars().all()
    assert {(r.person_id, r.recipient_id, r.kind) for r in rows} == {(c.person_id, manager.id, "digest")
                                                                    for c in cards}


def test_people_without_a_manager_make_no_digest(world):  # noqa: F811
    assert services.at_risk_digest(TODAY) == 0


def test_stale_connections_hook(app, monkeypatch):
    """Nothing until kpiapp.connectors.services.stale_connections exists; then each item's people
    are told in their language."""
    name = "kpiapp.connectors.services"
    if importlib.util.find_spec(name) is None:
        assert services.stale_connection_reminders(TODAY) == 0
    person = UserFactory(locale="zh_CN")
    module = types.ModuleType(name)
    module.__spec__ = ModuleSpec(name, None)
    module.stale_connections = lambda today: [SimpleNamespace(
        people=[person], label="AMZ-US SP-API", as_of=datetime(2026, 11, 8, 6, 0), link="/connections/1")]
    monkeypatch.setitem(sys.modules, name, module)
    assert services.stale_connection_reminders(TODAY) == 1
    [note] = db.session.execute(select(Notification).where(Notification.user_id == person.id)).scalars().all()
    assert said(note) == "AMZ-US SP-API 的数据已超过其新鲜度设置（最新数据 2026年11月8日），请检查店铺授权。"
    assert note.link == "/connections/1"
