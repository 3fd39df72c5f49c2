"""The month arithmetic and names of metric_fact's partitions (no database)."""
from datetime import date

from kpiapp.metrics.partitions import add_months, month_of_name, months_between, next_month, partition_name


def test_months_between_crosses_the_year_and_includes_both_ends():
    assert list(months_between(date(2025, 11, 30), date(2026, 2, 1))) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert list(months_between(date(2025, 3, 5), date(2025, 3, 9))) == [date(2025, 3, 1)]


def test_next_and_add_months():
    assert next_month(date(2025, 12, 1)) == date(2026, 1, 1)
    assert add_months(date(2025, 11, 1), 3) == date(2026, 2, 1)
    assert add_months(date(2025, 1, 1), 0) == date(2025, 1, 1)


def test_names_round_trip_and_other_tables_are_not_months():
    assert partition_name(date(2025, 3, 1)) == "metric_fact_2025_03"
    assert month_of_name("metric_fact_2025_03") == date(2025, 3, 1)
    assert month_of_name("metric_fact_default") is None
