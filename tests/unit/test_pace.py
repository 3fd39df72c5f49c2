"""kpiapp.tracking.pace on constructed daily series, numbers worked out by hand (docs/pace.md)."""
import sys
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.appraisal.scoring import Direction  # noqa: E402
from kpiapp.tracking.pace import (  # noqa: E402
    NOT_STARTED,
    OVER,
    RUNNING,
    blend_profiles,
    day_weights,
    is_additive,
    pace,
    season_profile,
)

HIGHER, LOWER = Direction.HIGHER_BETTER, Direction.LOWER_BETTER
NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


def gmv(actual, as_of, threshold=D("2400")):
    """GMV target 3,000 for November (30 days), threshold 2,400."""
    return pace(actual, D("3000"), threshold, HIGHER, NOV_1, NOV_30, as_of)


def test_higher_is_better_behind_pace_is_at_risk():
    p = gmv(D("700"), date(2026, 11, 10))  # 10 of 30 days: expected 1,000, forecast 700 x 3
    assert (p.status, p.days_elapsed, p.period_days) == (RUNNING, 10, 30)
    assert p.elapsed_share == D("0.333333")
    assert p.expected_to_date == D("1000.000000")
    assert p.forecast == D("2100.000000")
    assert p.at_risk is True  # 2,100 < 2,400


def test_higher_is_better_on_pace_below_target_but_above_threshold():
    p = gmv(D("900"), date(2026, 11, 10))
    assert p.forecast == D("2700.000000")
    assert p.at_risk is False


def test_lower_is_better_additive():
    # refunds as a count: target 100, threshold 120; half-way (15 of 30 days)
    late = pace(D("70"), D("100"), D("120"), LOWER, NOV_1, NOV_30, date(2026, 11, 15))
    assert (late.expected_to_date, late.forecast, late.at_risk) == (D("50"), D("140"), True)
    fine = pace(D("55"), D("100"), D("120"), LOWER, NOV_1, NOV_30, date(2026, 11, 15))
    assert (fine.forecast, fine.at_risk) == (D("110"), False)


def test_ratio_expected_is_target_and_forecast_is_ratio_to_date():
    acos = pace(D("0.32"), D("0.25"), D("0.30"), LOWER, NOV_1, NOV_30, date(2026, 11, 10), additive=False)
    assert (acos.kind, acos.expected_to_date, acos.forecast, acos.at_risk) == ("ratio", D("0.25"), D("0.32"), True)
    cvr = pace(D("0.11"), D("0.12"), D("0.10"), HIGHER, NOV_1, NOV_30, date(2026, 11, 10), additive=False)
    assert (cvr.expected_to_date, cvr.forecast, cvr.at_risk) == (D("0.12"), D("0.11"), False)


def test_no_data_is_none_not_zero_and_not_at_risk():
    p = gmv(None, date(2026, 11, 10))
    assert p.actual_to_date is None and p.forecast is None
    assert p.expected_to_date == D("1000")
    assert p.at_risk is False


def test_period_not_started():
    p = gmv(D("5"), date(2026, 10, 31))
    assert (p.status, p.days_elapsed, p.elapsed_share) == (NOT_STARTED, 0, D("0"))
    assert (p.expected_to_date, p.actual_to_date, p.forecast, p.at_risk) == (None, None, None, False)


def test_period_over_forecast_is_the_result():
    p = gmv(D("2500"), date(2026, 12, 5))
    assert (p.status, p.days_elapsed, p.elapsed_share) == (OVER, 30, D("1"))
    assert (p.expected_to_date, p.forecast, p.at_risk) == (D("3000"), D("2500"), False)
    assert gmv(D("2300"), date(2026, 12, 5)).at_risk is True


def test_no_threshold_compares_with_target():
    p = gmv(D("900"), date(2026, 11, 10), threshold=None)
    assert (p.limit, p.forecast, p.at_risk) == (D("3000"), D("2700"), True)


def test_no_target_no_expected():
    p = pace(D("900"), None, None, HIGHER, NOV_1, NOV_30, date(2026, 11, 10))
    assert (p.expected_to_date, p.forecast, p.at_risk) == (None, D("2700"), False)


def test_day_weights_share():
    start, end = date(2026, 11, 1), date(2026, 11, 4)
    p = pace(D("250"), D("800"), D("700"), HIGHER, start, end, date(2026, 11, 2),
             weights=[D(1), D(1), D(2), D(4)])  # 2 of 8 behind us
    assert (p.elapsed_share, p.expected_to_date, p.forecast, p.at_risk) == (D("0.25"), D("200"), D("1000"), False)


def year_with_peak(start=date(2025, 1, 6), days=364, peak_week=47):
    """364 days from Monday 2025-01-06 (ISO weeks 2..52 of 2025 and week 1 of 2026): 1 a day,
    4 a day in `peak_week`."""
    history = {}
    for n in range(days):
        day = start + timedelta(days=n)
        history[day] = D(4) if day.isocalendar()[1] == peak_week else D(1)
    return history


def test_season_profile_weeks_sum_to_one():
    profile = season_profile(year_with_peak())
    assert len(profile) == 52
    assert profile[47] == D(4) / D(55) and profile[10] == D(1) / D(55)  # 51 x 1 + 4 = 55


def test_season_profile_needs_a_year_and_a_positive_total():
    assert season_profile(year_with_peak(days=363)) is None
    assert season_profile({}) is None
    assert season_profile({day: D(0) for day in year_with_peak()}) is None


def test_seasonal_pace_does_not_flag_an_item_before_its_peak_week():
    # 2026-11-09 .. 11-22: ISO week 46 (weight 1/55 a day) then the peak week 47 (4/55 a day)
    start, end = date(2026, 11, 9), date(2026, 11, 22)
    weights = day_weights(season_profile(year_with_peak()), start, end)
    assert weights[0] == D(1) / D(55) and weights[7] == D(4) / D(55)
    seasonal = pace(D("180"), D("1000"), D("800"), HIGHER, start, end, date(2026, 11, 15), weights=weights)
    assert (seasonal.elapsed_share, seasonal.expected_to_date) == (D("0.2"), D("200"))  # 7 / 35
    assert (seasonal.forecast, seasonal.at_risk) == (D("900"), False)
    straight = pace(D("180"), D("1000"), D("800"), HIGHER, start, end, date(2026, 11, 15))
    assert (straight.expected_to_date, straight.forecast, straight.at_risk) == (D("500"), D("360"), True)


def test_week_53_takes_week_52():
    # 2026-12-28 is in ISO week 53 of 2026
    assert day_weights({52: D("0.5")}, date(2026, 12, 28), date(2026, 12, 28)) == [D("0.5")]


def test_blend_profiles_share_weighted_and_none_when_a_store_has_none():
    blended = blend_profiles([({1: D("0.5"), 2: D("0.5")}, D(1)), ({1: D(1)}, D(3))])
    assert blended == {1: D("0.875"), 2: D("0.125")}
    assert blend_profiles([({1: D(1)}, D(1)), (None, D(1))]) is None


def test_is_additive():
    assert is_additive("money", "ordered_sales") is True
    assert is_additive("money", "settled_product_sales - referral_fees") is True
    assert is_additive("money", "ad_spend / ad_clicks") is False  # CPC
    assert is_additive("fraction", "units_ordered / sessions") is False
    assert is_additive("days", "fulfillable_units / units_ordered") is False
