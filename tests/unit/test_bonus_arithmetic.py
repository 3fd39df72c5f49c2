"""Bonus arithmetic (docs/bonus.md): base x coefficient, and scaling to a budget exactly."""
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpiapp.bonus.arithmetic import amount, exact_shares, paid, scale_to_budget


def test_amount_is_base_times_coefficient_rounded_half_up():
    assert amount(D("8000.00"), D("1.2")) == D("9600.00")
    assert amount(D("3333.33"), D("0.6")) == D("2000.00")  # 1999.998 -> 2000.00
    assert amount(D("1234.56"), D("1.5")) == D("1851.84")
    assert amount(D("0.01"), D("0.5")) == D("0.01")  # 0.005 half up
    assert amount(D("5000"), D("0")) == D("0.00")


def test_no_amount_before_the_coefficient_is_known():
    assert amount(D("5000"), None) is None
    assert amount(None, D("1.0")) is None


def test_three_equal_shares_of_two_hundred_give_the_spare_cents_to_the_first_lines():
    assert scale_to_budget([D("100"), D("100"), D("100")], D("200")) == [D("66.67"), D("66.67"), D("66.66")]


def test_largest_remainder_wins_the_spare_cent():
    # shares of 10.00: 10 x 1/6 = 1.666.., 10 x 2/6 = 3.333.., 10 x 3/6 = 5.00
    # floors 1.66 + 3.33 + 5.00 = 9.99; remainders .666 and .333 cents: the first line gets the cent
    assert scale_to_budget([D("1"), D("2"), D("3")], D("10")) == [D("1.67"), D("3.33"), D("5.00")]


def test_scaling_down_a_real_table():
    # 9600 + 6000 + 3600 = 19200 over a budget of 16000: factor 5/6
    assert scale_to_budget([D("9600.00"), D("6000.00"), D("3600.00")], D("16000.00")) == [
        D("8000.00"), D("5000.00"), D("3000.00")]


def test_scaling_up_spends_the_whole_pool():
    assert scale_to_budget([D("100.00"), D("300.00")], D("1000.00")) == [D("250.00"), D("750.00")]


def test_a_zero_amount_stays_zero():
    assert scale_to_budget([D("0"), D("50"), D("50")], D("99.99")) == [D("0.00"), D("50.00"), D("49.99")]


def test_nothing_to_scale_when_the_amounts_total_zero():
    with pytest.raises(ValueError):
        scale_to_budget([D("0"), D("0")], D("100"))


def test_without_a_budget_paid_is_the_amount():
    assert paid([D("12.34"), D("0.00")]) == [D("12.34"), D("0.00")]
    assert paid([D("10"), D("30")], D("20")) == [D("5.00"), D("15.00")]


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c) / 100)


@given(st.lists(cents, min_size=1, max_size=40).filter(lambda a: sum(a) > 0),
       st.integers(min_value=0, max_value=100_000_000).map(lambda c: D(c) / 100))
def test_scaled_amounts_sum_exactly_and_move_less_than_a_cent(amounts, budget):
    scaled = scale_to_budget(amounts, budget)
    assert sum(scaled) == budget
    for result, share in zip(scaled, exact_shares(amounts, budget)):
        assert result == result.quantize(D("0.01"))
        assert abs(Fraction(result * 100) - share) < 1  # less than one cent from the exact share
