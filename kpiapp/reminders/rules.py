"""What reminders to send today: pure rules, no database, no Flask (docs/reminders.md).

A Duty is one step someone owes by a deadline (a scorecard's stage, an appeal's reply, a
dispute's handling). `decide(duties, today, settings, sent)` returns one Reminder per
(recipient, cycle, stage) at most: N days before the deadline, on the day, every M days once
overdue, and to the actor's manager from K days overdue; never to someone who has acted, and
never to a (recipient, cycle, stage) the log `sent` already holds for `today`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    BEFORE = "before"
    DUE = "due"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    DIGEST = "digest"  # the weekly at-risk digest (not decided here)


URGENCY = (Kind.BEFORE, Kind.DUE, Kind.OVERDUE, Kind.ESCALATION)


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    """A cycle's reminder settings: days before (e.g. (3, 1)), the overdue cadence M and the
    escalation threshold K, in days."""

    before: tuple[int, ...] = (3, 1)
    every: int = 2
    escalate_after: int = 3
    enabled: bool = True

    def __post_init__(self):
        if any(d < 1 or d > 60 for d in self.before) or len(set(self.before)) != len(self.before):
            raise SettingsError("days before must be distinct whole numbers from 1 to 60")
        if not 1 <= self.every <= 30 or not 1 <= self.escalate_after <= 60:
            raise SettingsError("the overdue cadence is 1-30 days and the escalation 1-60 days")


def parse_before(text):
    """'3, 1' -> (3, 1); SettingsError for anything else."""
    try:
        days = tuple(sorted({int(part) for part in str(text or "").replace("，", ",").split(",")
                             if part.strip()}, reverse=True))
    except ValueError:
        raise SettingsError("days before must be whole numbers separated by commas") from None
    Settings(before=days)
    return days


@dataclass(frozen=True)
class Duty:
    """`actor` owes the step on `subject` (a person: whose scorecard, appeal or dispute) in
    `stage` of `cycle` by `due`; `manager` is the actor's manager (escalation), `acted` whether
    the actor has already done it."""

    cycle: int
    stage: str
    subject: int
    actor: int
    due: date
    manager: int | None = None
    acted: bool = False
    ref: object = None  # what the message links to (scorecard id, appeal id, ...)


@dataclass
class Reminder:
    recipient: int
    cycle: int
    stage: str
    kind: Kind
    due: date
    days: int  # days left (before), 0 (due) or days overdue
    duties: list = field(default_factory=list)  # [(Duty, Kind)]: who it is about, and why

    @property
    def subjects(self):
        return sorted({duty.subject for duty, _kind in self.duties})


def own_kind(due, today, settings):
    """The kind of reminder the actor gets today, or None."""
    left = (due - today).days
    if left > 0:
        return Kind.BEFORE if left in settings.before else None
    if left == 0:
        return Kind.DUE
    return Kind.OVERDUE if (-left - 1) % settings.every == 0 else None


def escalates(due, today, settings):
    """True on the days the actor's manager is told: K days overdue, then every M days."""
    over = (today - due).days - settings.escalate_after
    return over >= 0 and over % settings.every == 0


def candidates(duty, today, settings):
    """[(recipient, kind)] this duty asks for today."""
    if duty.acted or not settings.enabled:
        return []
    out = []
    kind = own_kind(duty.due, today, settings)
    if kind is not None:
        out.append((duty.actor, kind))
    if duty.manager is not None and duty.manager != duty.actor and escalates(duty.due, today, settings):
        out.append((duty.manager, Kind.ESCALATION))
    return out


def decide(duties, today, settings_of, sent=frozenset()):
    """[Reminder] for today: one per (recipient, cycle, stage), the most urgent kind first,
    none where `sent` holds (recipient, cycle, stage, today). `settings_of(cycle)` -> Settings."""
    found = {}
    for duty in duties:
        for recipient, kind in candidates(duty, today, settings_of(duty.cycle)):
            key = (recipient, duty.cycle, duty.stage)
            if (*key, today) in sent:
                continue
            reminder = found.setdefault(key, Reminder(recipient, duty.cycle, duty.stage, kind, duty.due,
                                                      abs((duty.due - today).days)))
            if URGENCY.index(kind) > URGENCY.index(reminder.kind):
                reminder.kind = kind
            if duty.due < reminder.due:  # appeals and disputes each have their own deadline
                reminder.due, reminder.days = duty.due, abs((duty.due - today).days)
            reminder.duties.append((duty, kind))
    return sorted(found.values(), key=lambda r: (r.cycle, r.stage, r.recipient))
