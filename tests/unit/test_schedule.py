"""The schedule: every entry names a real function and a valid cron expression."""
from datetime import datetime, timezone

from croniter import croniter

from kpiapp.schedule import SCHEDULE
from workers import cron


def test_every_entry_resolves_and_has_a_valid_cron_expression():
    assert len({item.name for item in SCHEDULE}) == len(SCHEDULE)
    for item in SCHEDULE:
        assert callable(cron.function(item.func)), item.name
        assert item.func.startswith("workers."), item.name
        assert croniter.is_valid(item.cron), item.name


def test_due_times_are_after_now():
    now = datetime(2026, 12, 3, 10, 7, tzinfo=timezone.utc)
    due = cron.due_times(now)
    assert due["anchor-audit"] == datetime(2026, 12, 3, 10, 15, tzinfo=timezone.utc)
    assert due["at-risk"] == datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)
    assert due["partitions"] == datetime(2026, 12, 4, 2, 15, tzinfo=timezone.utc)
