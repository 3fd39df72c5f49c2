"""The weekly at-risk digest: one message per manager listing the team's items at risk, once a
week (tracking.alerts' computation); and the connectors hook that waits for its service."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.notifications.messages import reader_locale, text
from kpiapp.models import Notification, ReminderLog, User
from kpiapp.reminders import services
from tests.factories import StoreFactory, UserFactory
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


def test_stale_connection_tells_the_store_owners_and_admins_once_a_day(app):
    """A connection whose last pull is older than its freshness setting: its store's owner (in
    Chinese) and the admin are told, with the link to the connections page; not twice a day."""
    from kpiapp.models import Role, StoreConnection, StoreOwner

    owner, admin = UserFactory(locale="zh_CN"), UserFactory(role=Role.admin, locale="en")
    store = StoreFactory(code="AMZ-US")
    db.session.add(StoreOwner(store=store, person=owner, share_pct=100))
    db.session.add(StoreConnection(store=store, platform="amazon_sp", kinds=["sales"], settings={},
                                   freshness_hours=36, created_at=datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)))
    db.session.commit()
    assert services.stale_connection_reminders(TODAY) == 2
    assert services.stale_connection_reminders(TODAY) == 0  # once a day
    [note] = db.session.execute(select(Notification).where(Notification.user_id == owner.id)).scalars().all()
    assert said(note) == "AMZ-US Amazon SP-API 的数据已超过其新鲜度设置（最新数据 —），请检查店铺授权。"
    assert note.link == "/connections"
    assert services.stale_connection_reminders(TODAY + timedelta(days=1)) == 2