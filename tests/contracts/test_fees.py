"""The contract fee (kpiapp/contracts/fees.py): pure, step by step, rounded to the cent."""
from decimal import Decimal

import pytest

from kpiapp.contracts.fees import FeeTerms, bands_from_json, fee_for
from tests.contracts.factories import FEE_BANDS

# pure: the contracts conftest gives each test the app, on the shared database (no copy of its own)
pytestmark = pytest.mark.rollback

D = Decimal
TERMS = FeeTerms(base_fee=D(20000), commission_pct=D(3), bands=bands_from_json(FEE_BANDS),
                 bonus_threshold=D(105), bonus_amount=D(5000))


def steps(terms, score, base):
    return {s.code: s.amount for s in fee_for(terms, score, base)}


def test_the_steps_add_up_in_order():
    result = fee_for(TERMS, D("114.67"), D(120000))
    assert [s.code for s in result] == ["base", "commission", "subtotal", "adjustment", "bonus", "total"]
    # 20,000 + 3 % x 120,000 = 23,600; +10 % = 2,360; bonus 5,000 -> 30,960
    assert [s.amount for s in result] == [D("20000.00"), D("3600.00"), D("23600.00"), D("2360.00"),
                                          D("5000.00"), D("30960.00")]
    assert result[1].params == {"pct": D(3), "base": D(120000)}
    assert result[3].to_dict()["params"] == {"pct": "10", "score": "114.67", "lower": "110", "upper": None}


@pytest.mark.parametrize("score, adjustment", [
    (D("110"), D("2360.00")),      # lower edge of >= 110 is inclusive
    (D("109.99"), None),           # between 80 and 110: no band
    (D("80"), None),               # upper edge of 60-80 is exclusive
    (D("79.99"), D("-2360.00")),   # -10 %
    (D("60"), D("-2360.00")),      # lower edge of 60-80 inclusive
    (D("59.99"), D("-4720.00")),   # -20 %
    (D("0"), D("-4720.00")),
])
def test_band_edges(score, adjustment):
    assert steps(TERMS, score, D(120000)).get("adjustment") == adjustment


@pytest.mark.parametrize("score, bonus", [(D("105"), D("5000.00")), (D("104.99"), None)])
def test_bonus_from_the_threshold_inclusive(score, bonus):
    assert steps(TERMS, score, D(120000)).get("bonus") == bonus


def test_rounding_half_up_to_the_cent_and_total_equals_the_steps():
    terms = FeeTerms(base_fee=D("1000.005"), commission_pct=D("2.5"), bands=bands_from_json(FEE_BANDS))
    # commission 2.5 % x 333.33 = 8.33325 -> 8.33; base 1000.005 -> 1000.01 (half up)
    # subtotal 1008.34; -10 % (score 70) = -100.834 -> -100.83; total 907.51
    result = steps(terms, D(70), D("333.33"))
    assert result == {"base": D("1000.01"), "commission": D("8.33"), "subtotal": D("1008.34"),
                      "adjustment": D("-100.83"), "total": D("907.51")}
    assert result["total"] == result["subtotal"] + result["adjustment"]
    half = steps(FeeTerms(base_fee=D(0), commission_pct=D(1)), None, D("0.5"))  # 0.005 -> 0.01
    assert half["commission"] == D("0.01")


def test_no_commission_base_is_refused_when_a_commission_is_due():
    with pytest.raises(ValueError):
        fee_for(TERMS, D(100), None)


def test_no_commission_terms_need_no_base():
    result = steps(FeeTerms(base_fee=D(8000)), D(100), None)
    assert result == {"base": D("8000.00"), "subtotal": D("8000.00"), "total": D("8000.00")}


def test_no_score_means_no_adjustment_and_no_bonus():
    result = steps(TERMS, None, D(100000))
    assert "adjustment" not in result and "bonus" not in result
    assert result["total"] == D("23000.00")


def test_bands_from_json_reads_open_ends():
    bands = bands_from_json(FEE_BANDS)
    assert (bands[0].lower, bands[0].upper, bands[0].points) == (D(110), None, D(10))
    assert (bands[2].lower, bands[2].upper, bands[2].points) == (None, D(60), D(-20))
    assert bands_from_json(None) == ()
