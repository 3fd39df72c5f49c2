"""send_reminders on a frozen clock: real scorecards, notifications in each recipient's language,
the log, no duplicates, none after acting, escalation to the manager (docs/reminders.md)."""
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kpiapp.appraisal import services as appraisal
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.notifications.messages import reader_locale, text
from kpiapp.models import Appeal, AuditEvent, Notification, ReminderLog, User
from kpiapp.reminders import services
from tests.appraisal.factories import make_team, walk_to

pytestmark = pytest.mark.rollback


def said(note):
    """What the notification says to its recipient, in their language."""
    return text(note, reader_locale(db.session.get(User, note.user_id)))

DUE = date(2026, 12, 31)


def day(offset):
    return DUE + timedelta(days=offset)


@pytest.fixture
def team():
    """manager -> Li (zh_CN) and Emma (en), both in self-review, self-review due 31 December."""
    team = make_team(size=2)
    li, emma = team.people
    li.locale, emma.locale, team.manager.locale = "zh_CN", "en", "zh_CN"
    li.name, emma.name = "李雷", "Emma Wilson"
    for person in team.people:
        walk_to(team, person, S.SELF_REVIEW)
    team.cycle.self_review_due = DUE
    team.cycle.manager_review_due = DUE + timedelta(days=14)
    db.session.flush()
    return team


def notes(user):
    return db.session.execute(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.kind == "reminder")
                              .order_by(Notification.id)).scalars().all()


def test_before_in_each_recipients_language_with_a_deep_link(team):
    li, emma = team.people
    assert services.send_reminders(day(-3)) == 2
    [zh], [en] = notes(li), notes(emma)
    assert said(zh) == "请在 2026年12月31日 前完成 2026 Q4 自评（还剩 3 天）。"
    assert said(en) == "Please complete your self-review for 2026 Q4 by Dec 31, 2026 (days left: 3)."
    assert zh.link == f"/scorecards/{team.card(li).id}" and zh.scorecard_id == team.card(li).id
    rows = db.session.execute(select(ReminderLog).order_by(ReminderLog.recipient_id)).scalars().all()
    assert [(r.stage, r.person_id, r.recipient_id, r.kind, r.day, r.due, r.notification_id) for r in rows] == [
        ("self_review", p.id, p.id, "before", day(-3), DUE, notes(p)[0].id) for p in sorted(team.people, key=lambda p: p.id)]


def test_no_duplicates_on_a_second_run_the_same_day(team):
    assert services.send_reminders(day(-1)) == 2
    assert services.send_reminders(day(-1)) == 0
    assert [len(notes(p)) for p in team.people] == [1, 1]
    assert services.send_reminders(day(-2)) == 0  # not a reminder day
    assert services.send_reminders(day(0)) == 2  # on the day
    assert said(notes(team.people[1])[-1]) == "Today (Dec 31, 2026) is the deadline for your self-review for 2026 Q4."


def test_none_after_acting_overdue_every_m_days_and_escalation(team):
    li, emma = team.people
    walk_to(team, li, S.MANAGER_REVIEW)  # Li has done her self-review
    sent = {offset: services.send_reminders(day(offset)) for offset in range(-4, 8)}
    assert notes(li) == []
    kinds = {(r.day, r.recipient_id, r.kind) for r in db.session.execute(select(ReminderLog)).scalars()}
    assert kinds == {
        (day(-3), emma.id, "before"), (day(-1), emma.id, "before"), (day(0), emma.id, "due"),
        (day(1), emma.id, "overdue"), (day(3), emma.id, "overdue"), (day(3), team.manager.id, "escalation"),
        (day(5), emma.id, "overdue"), (day(5), team.manager.id, "escalation"),
        (day(7), emma.id, "overdue"), (day(7), team.manager.id, "escalation")}
    assert sum(sent.values()) == 10
    first = notes(team.manager)[0]
    assert said(first) == "升级提醒：2026 Q4 自评 截止日为 2026年12月31日，仍未完成（已逾期 3 天）：Emma Wilson。"
    assert said(notes(emma)[3]) == ("Overdue: your self-review for 2026 Q4 was due on Dec 31, 2026 "
                                      "(days overdue: 1). Please complete it now.")


def test_a_reminder_reads_in_the_language_of_the_moment(team):
    """Sent in Chinese to the manager; read after he switched to English, its task, the people and
    the date are English too (the inbox showed "Escalation: 自评 … due on 2026年12月31日")."""
    emma = team.people[1]
    for offset in range(-4, 4):
        services.send_reminders(day(offset))
    [escalation] = notes(team.manager)
    assert said(escalation).startswith("升级提醒：2026 Q4 自评")
    assert text(escalation, "en") == ("Escalation: your self-review for 2026 Q4, due on Dec 31, 2026, is still "
                                      "open (days overdue: 3): Emma Wilson, 李雷.")
    walk_to(team, team.people[0], S.MANAGER_REVIEW)
    walk_to(team, emma, S.MANAGER_REVIEW)
    services.send_reminders(DUE + timedelta(days=13))
    review = notes(team.manager)[-1]
    assert text(review, "en") == ("Please complete the manager review (Emma Wilson, 李雷) for 2026 Q4 by "
                                  "Jan 14, 2027 (days left: 1).")
    older = {k: v for k, v in review.params.items() if k not in ("stage", "others", "due_on")}
    review.params = older  # a row sent before the stage and date were kept: shown as it was written
    assert text(review, "en").startswith("Please complete 上级评分（Emma Wilson, 李雷） for 2026 Q4 by 2027年1月14日")


def test_a_manager_gets_one_message_for_all_the_reviews_he_owes(team):
    for person in team.people:
        walk_to(team, person, S.MANAGER_REVIEW)
    assert services.send_reminders(DUE + timedelta(days=13)) == 1
    [note] = notes(team.manager)
    assert said(note) == "请在 2027年1月14日 前完成 2026 Q4 上级评分（Emma Wilson, 李雷）（还剩 1 天）。"
    assert note.link == "/inbox/"
    lines = db.session.execute(select(ReminderLog.person_id).where(ReminderLog.notification_id == note.id))
    assert sorted(lines.scalars()) == sorted(p.id for p in team.people)


def test_settings_per_cycle(team):
    team.cycle.remind_before, team.cycle.remind_every, team.cycle.escalate_after = "5", 1, 1
    db.session.flush()
    assert services.send_reminders(day(-3)) == 0
    assert services.send_reminders(day(-5)) == 2
    assert services.send_reminders(day(1)) == 3  # both owners and, from 1 day, the manager
    team.cycle.reminders_on = False
    db.session.flush()
    assert services.send_reminders(day(2)) == 0


def test_each_run_is_audited_per_cycle(team):
    services.send_reminders(day(-3))
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "reminders.send")).scalars()
    assert (event.entity, event.entity_id) == ("cycle", str(team.cycle.id))


def test_appeal_reply_deadline(team):
    li = team.people[0]
    card = walk_to(team, li, S.LOCKED)
    appraisal.acknowledge(card, li, objection=True, comment="The GMV misses a store.")
    db.session.flush()
    appeal = db.session.execute(select(Appeal)).scalar_one()
    assert services.send_reminders(appeal.deadline) >= 1
    [note] = [n for n in notes(team.manager) if "申诉" in said(n)]
    assert said(note).startswith("今天")
    assert note.link == f"/scorecards/{card.id}"


def test_send_reminders_command(team, app):
    result = CliRunner().invoke(app.cli, ["kpi", "send-reminders", "--today", "2026-12-28"],
                                catch_exceptions=False)
    assert result.exit_code == 0 and result.output == "2026-12-28: 2 reminders sent\n"
    again = CliRunner().invoke(app.cli, ["kpi", "send-reminders", "--today", "2026-12-28"])
    assert again.output == "2026-12-28: 0 reminders sent\n"


def test_dispute_handlers_are_reminded_before_the_lock(team):
    """An open dispute is due a week after it was raised, or at the calibration deadline when that
    comes first; HR and the store's owner are reminded, never the raiser or the card's owner."""
    from kpiapp.appraisal import disputes
    from tests.appraisal.factories import metric_item
    from tests.factories import StoreFactory, StoreOwnerFactory, UserFactory

    li = team.people[0]
    card = team.card(li)
    store = StoreFactory()
    owner = StoreOwnerFactory(store=store, person=UserFactory(locale="en")).person
    metric_item(card).scope = [{"store_id": store.id, "share_pct": "100"}]
    dispute = disputes.raise_dispute(metric_item(card), li, "B2B orders are missing.")
    db.session.flush()
    due = services.dispute_due(dispute, team.cycle)
    assert due == dispute.created_at.date() + timedelta(days=7)
    team.cycle.calibration_due = due - timedelta(days=2)
    assert services.dispute_due(dispute, team.cycle) == team.cycle.calibration_due
    team.cycle.self_review_due = None  # only the dispute is due
    db.session.flush()
    assert services.send_reminders(team.cycle.calibration_due) == 3  # owner, hr, hr2
    rows = db.session.execute(select(ReminderLog)).scalars().all()
    assert {(r.stage, r.person_id, r.kind) for r in rows} == {("dispute", li.id, "due")}
    assert {r.recipient_id for r in rows} == {owner.id, team.hr.id, team.hr2.id}
    assert said(notes(owner)[0]) == (f"Today ({team.cycle.calibration_due:%b} {team.cycle.calibration_due.day}, "
                                       f"{team.cycle.calibration_due.year}) is the deadline for the handling of a "
                                       f"data dispute ({li.name}) for 2026 Q4.")
    disputes.reject_dispute(dispute, owner, "The orders are in the next month.")
    db.session.flush()
    assert services.send_reminders(team.cycle.calibration_due + timedelta(days=1)) == 0  # handled


def test_the_daily_schedule_entry_runs_the_same_function(team, monkeypatch):
    from workers import scheduled

    monkeypatch.setattr("kpiapp.tracking.services.utc_today", lambda: day(-1))
    assert scheduled.reminders() == 2
    assert scheduled.reminders() == 0
    assert {r.day for r in db.session.execute(select(ReminderLog)).scalars()} == {day(-1)}
