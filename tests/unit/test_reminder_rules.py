"""The reminder rules on a frozen clock (docs/reminders.md): before, on the day, overdue every M
days, escalation from K days, one per person per stage per day, none after acting."""
from datetime import date, timedelta

import pytest

from kpiapp.reminders import rules
from kpiapp.reminders.rules import Duty, Kind, Settings

DUE = date(2026, 12, 31)
DEFAULT = Settings()  # 3 and 1 days before, every 2 days overdue, to the manager from 3 days


def day(offset):
    return DUE + timedelta(days=offset)


def sent(duties, today, settings=DEFAULT, log=frozenset()):
    return {(r.recipient, r.kind) for r in rules.decide(duties, today, lambda _c: settings, log)}


def duty(actor=10, manager=20, acted=False, stage="self_review", subject=None, due=DUE):
    return Duty(1, stage, subject or actor, actor, due, manager, acted, ref=100 + actor)


def test_schedule_over_five_weeks_with_defaults():
    """Day by day from 10 days before to 20 days after: exactly the days the rules name."""
    got = {offset: sent([duty()], day(offset)) for offset in range(-10, 21)}
    expected = {offset: set() for offset in range(-10, 21)}
    expected[-3] = expected[-1] = {(10, Kind.BEFORE)}
    expected[0] = {(10, Kind.DUE)}
    for offset in (1, 3, 5, 7, 9, 11, 13, 15, 17, 19):  # every 2 days once overdue
        expected[offset] = {(10, Kind.OVERDUE)}
    for offset in (3, 5, 7, 9, 11, 13, 15, 17, 19):  # the manager from 3 days overdue, then every 2
        expected[offset] = expected[offset] | {(20, Kind.ESCALATION)}
    assert got == expected


@pytest.mark.parametrize("settings, before, overdue, escalated", [
    (Settings(before=(7, 2), every=3, escalate_after=5), {-7, -2}, {1, 4, 7, 10}, {5, 8}),
    (Settings(before=(1,), every=1, escalate_after=1), {-1}, set(range(1, 11)), set(range(1, 11))),
])
def test_configured_days(settings, before, overdue, escalated):
    def offsets(kind, who):
        return {o for o in range(-10, 11) if (who, kind) in sent([duty()], day(o), settings)}

    assert offsets(Kind.BEFORE, 10) == before
    assert offsets(Kind.DUE, 10) == {0}
    assert offsets(Kind.OVERDUE, 10) == overdue
    assert offsets(Kind.ESCALATION, 20) == escalated


def test_none_after_acting_and_none_when_off():
    for offset in range(-5, 15):
        assert sent([duty(acted=True)], day(offset)) == set()
        assert sent([duty()], day(offset), Settings(enabled=False)) == set()


def test_no_manager_no_escalation():
    assert sent([duty(manager=None)], day(3)) == {(10, Kind.OVERDUE)}


def test_one_reminder_per_person_per_stage_per_day():
    """A manager owing three reviews gets one message naming the three; a second run finds the log."""
    duties = [duty(actor=20, manager=30, subject=s, stage="manager_review") for s in (1, 2, 3)]
    [reminder] = rules.decide(duties, day(-1), lambda _c: DEFAULT)
    assert (reminder.recipient, reminder.kind, reminder.subjects, reminder.days) == (20, Kind.BEFORE, [1, 2, 3], 1)
    assert rules.decide(duties, day(-1), lambda _c: DEFAULT, {(20, 1, "manager_review", day(-1))}) == []
    # the next day is a new day; another stage is another reminder
    assert sent(duties, day(0), log={(20, 1, "manager_review", day(-1))}) == {(20, Kind.DUE)}
    other = duty(actor=20, manager=30, subject=4, stage="approval")
    assert len(rules.decide([*duties, other], day(-1), lambda _c: DEFAULT)) == 2


def test_own_overdue_and_escalation_to_the_same_person_make_one_message():
    """The manager is late with his own approval and his report (who approves her own team) too:
    one escalation message for the stage that day, covering both."""
    own = duty(actor=20, manager=30, stage="approval", subject=5)
    report = duty(actor=21, manager=20, stage="approval", subject=6)
    reminders = rules.decide([own, report], day(3), lambda _c: DEFAULT)
    by_recipient = {r.recipient: r for r in reminders}
    assert by_recipient[20].kind == Kind.ESCALATION
    assert {k for _d, k in by_recipient[20].duties} == {Kind.OVERDUE, Kind.ESCALATION}
    assert by_recipient[21].kind == Kind.OVERDUE and by_recipient[30].kind == Kind.ESCALATION


def test_earliest_deadline_of_a_stage_with_several():
    appeals = [duty(stage="appeal", subject=1, due=day(2)), duty(stage="appeal", subject=2, due=day(0))]
    [reminder] = rules.decide(appeals, day(0), lambda _c: DEFAULT)
    assert (reminder.kind, reminder.due, reminder.subjects) == (Kind.DUE, day(0), [2])


@pytest.mark.parametrize("text, expected", [("3,1", (3, 1)), ("1, 3", (3, 1)), ("7，2", (7, 2)), ("", ())])
def test_parse_before(text, expected):
    assert rules.parse_before(text) == expected


@pytest.mark.parametrize("text", ["x", "0", "3,-1", "61"])
def test_parse_before_refuses(text):
    with pytest.raises(rules.SettingsError):
        rules.parse_before(text)


@pytest.mark.parametrize("every, escalate", [(0, 3), (31, 3), (2, 0), (2, 61)])
def test_settings_bounds(every, escalate):
    with pytest.raises(rules.SettingsError):
        Settings(every=every, escalate_after=escalate)
