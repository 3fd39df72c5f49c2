"""Pace of a KPI item in a running period: expected to date, forecast, at risk (docs/pace.md).

Pure: Decimal in, Decimal out; no Flask, no database. `kpiapp.tracking.paces` feeds it from
the tracked items, the dashboards show it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from itertools import accumulate

from kpiapp.appraisal.scoring import Direction

PLACES = Decimal("0.000001")
YEAR_DAYS = 364
ADDITIVE, RATIO = "additive", "ratio"
NOT_STARTED, RUNNING, OVER = "not_started", "running", "over"
SUM_UNITS = ("money", "count")


@dataclass(frozen=True)
class Pace:
    status: str  # NOT_STARTED, RUNNING or OVER
    kind: str  # ADDITIVE or RATIO
    direction: Direction
    days_elapsed: int
    period_days: int
    elapsed_share: Decimal
    expected_to_date: Decimal | None
    actual_to_date: Decimal | None
    forecast: Decimal | None
    target: Decimal | None
    threshold: Decimal | None
    at_risk: bool

    @property
    def higher_better(self) -> bool:
        return self.direction == Direction.HIGHER_BETTER

    @property
    def limit(self) -> Decimal | None:
        """What the forecast is compared with: the threshold, or the target without one."""
        return self.threshold if self.threshold is not None else self.target


def is_additive(unit: str, formula: str) -> bool:
    """A metric that sums over days: a money or count unit and no division in its formula."""
    return unit in SUM_UNITS and "/" not in formula and "period_days" not in formula


def pace(actual_to_date, target, threshold, direction, period_start, period_end, as_of,
         additive=True, weights: Sequence[Decimal] | None = None) -> Pace:
    """The pace of one item on `as_of` (see docs/pace.md for the rules).

    `weights`: one weight per day of the period (`day_weights`), else days count equally."""
    direction = Direction(direction or Direction.HIGHER_BETTER)
    period_days = (period_end - period_start).days + 1
    elapsed = max(0, min(period_days, (as_of - period_start).days + 1))
    status = NOT_STARTED if elapsed == 0 else OVER if elapsed == period_days else RUNNING
    share = _share(elapsed, period_days, weights)
    kind = ADDITIVE if additive else RATIO
    base = dict(status=status, kind=kind, direction=direction, days_elapsed=elapsed,
                period_days=period_days, elapsed_share=_round(share), target=target,
                threshold=threshold)
    if status == NOT_STARTED:
        return Pace(expected_to_date=None, actual_to_date=None, forecast=None, at_risk=False, **base)
    expected = None if target is None else _round(target * share if additive else target)
    forecast = _forecast(actual_to_date, share, additive)
    limit = threshold if threshold is not None else target
    return Pace(expected_to_date=expected, actual_to_date=actual_to_date, forecast=forecast,
                at_risk=misses(forecast, limit, direction), **base)


def misses(value, limit, direction) -> bool:
    """True when `value` is worse than `limit` in the metric's direction; False without either."""
    if value is None or limit is None:
        return False
    return value < limit if Direction(direction) == Direction.HIGHER_BETTER else value > limit


def _share(elapsed, period_days, weights):
    if weights is None:
        return Decimal(elapsed) / Decimal(period_days)
    sums = weights.sums if isinstance(weights, DayWeights) else running_sums(weights)
    total = sums[-1]
    if total <= 0:
        return Decimal(elapsed) / Decimal(period_days)
    return sums[min(elapsed, len(weights))] / total


def running_sums(weights):
    """[0, w0, w0 + w1, ...]: sums[k] is sum(weights[:k], Decimal(0)), the same additions in the
    same order, so the same Decimal."""
    return list(accumulate(weights, initial=Decimal(0)))


class DayWeights(list):
    """`day_weights`' list with its running sums made once: the items of one scope share one
    list (`paces.item_weights`), and summing it twice for each of 3,200 seasonal items was a
    third of pacing them (the team dashboard at 5,000 people)."""

    @cached_property
    def sums(self):
        return running_sums(self)


def _forecast(actual, share, additive):
    if actual is None:
        return None
    if not additive:
        return actual
    return None if share <= 0 else _round(actual / share)


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- seasonality


def season_profile(daily_history: Mapping[date, Decimal]) -> dict[int, Decimal] | None:
    """{ISO week: share of a year's daily average} from a year of daily values, or None.

    Each week's weight is the average daily value of the history's days in that ISO week,
    normalised so the weights sum to 1. None when the history spans fewer than 364 days or
    its total is not above zero (no shape to follow)."""
    if not daily_history:
        return None
    days = sorted(daily_history)
    if (days[-1] - days[0]).days + 1 < YEAR_DAYS:
        return None
    sums, counts = {}, {}
    for day in days:
        week = day.isocalendar()[1]
        sums[week] = sums.get(week, Decimal(0)) + Decimal(daily_history[day])
        counts[week] = counts.get(week, 0) + 1
    averages = {week: sums[week] / counts[week] for week in sums}
    total = sum(averages.values(), Decimal(0))
    if total <= 0:
        return None
    return {week: value / total for week, value in averages.items()}


def blend_profiles(profiles: Sequence[tuple[Mapping[int, Decimal] | None, Decimal]]):
    """The share-weighted mean of several stores' profiles; None if any store has none."""
    if not profiles or any(profile is None for profile, _ in profiles):
        return None
    total = sum((Decimal(share) for _, share in profiles), Decimal(0))
    if total <= 0:
        return None
    weeks = set().union(*(profile.keys() for profile, _ in profiles))
    return {week: sum((profile.get(week, Decimal(0)) * Decimal(share) for profile, share in profiles),
                      Decimal(0)) / total
            for week in weeks}


def day_weights(profile: Mapping[int, Decimal], period_start: date, period_end: date) -> list[Decimal]:
    """Each day's weight in the period: its ISO week's weight (week 53 takes week 52's)."""
    weights = DayWeights()
    day = period_start
    while day <= period_end:
        week = day.isocalendar()[1]
        weights.append(profile.get(week, profile.get(52, Decimal(0)) if week == 53 else Decimal(0)))
        day += timedelta(days=1)
    return weights
