"""Built-in metric definitions (指标口径): shape, formulas and worked examples."""

import re
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

# The project is not installed in the venv; make the checkout importable under --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.appraisal.scoring import Direction  # noqa: E402
from kpiapp.metrics.catalog import BUILTIN_METRICS, BUILTIN_METRICS_BY_KEY  # noqa: E402
from kpiapp.metrics.formula import PERIOD_DAYS, parse_formula  # noqa: E402
from kpiapp.parsers.measures import BASE_MEASURES  # noqa: E402

MEASURES = set(BASE_MEASURES)
CJK = re.compile(r"[\u4e00-\u9fff]")

REQUIRED = {
    "gmv": "ordered_sales",
    "units": "units_ordered",
    "sessions": "sessions",
    "cvr": "units_ordered / sessions",
    "ad_spend": "ad_spend",
    "ad_sales": "ad_sales",
    "acos": "ad_spend / ad_sales",
    "roas": "ad_sales / ad_spend",
    "tacos": "ad_spend / ordered_sales",
    "ctr": "ad_clicks / ad_impressions",
    "cpc": "ad_spend / ad_clicks",
    "refund_rate": "units_refunded / units_ordered",
    "gross_margin": "(ordered_sales - refund_amount - cogs - inbound_freight) / ordered_sales",
    "net_profit": None,  # checked by a worked example below: its signs follow measures.py
    "cs_response_rate_24h": "cs_messages_replied_24h / cs_messages",
    "negative_feedback_rate": "negative_feedback_orders / feedback_orders",
    "fba_in_stock_rate": "sku_days_in_stock / sku_days_tracked",
    "days_of_supply": "fulfillable_units / units_ordered",
    "new_listings": "new_listings",
}


def metric(key):
    return BUILTIN_METRICS_BY_KEY[key]


def evaluate(key, **values):
    spec = metric(key)
    return parse_formula(spec.formula, MEASURES).evaluate({k: D(v) for k, v in values.items()})


def test_required_metrics_exist_with_their_formulas():
    for key, formula in REQUIRED.items():
        assert key in BUILTIN_METRICS_BY_KEY, key
        if formula is not None:
            assert metric(key).formula == formula


def test_keys_are_unique_snake_case():
    keys = [m.key for m in BUILTIN_METRICS]
    assert len(keys) == len(set(keys)) == len(BUILTIN_METRICS_BY_KEY)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", k) for k in keys)


@pytest.mark.parametrize("spec", BUILTIN_METRICS, ids=lambda m: m.key)
def test_formula_parses_against_the_base_measures(spec):
    formula = parse_formula(spec.formula, MEASURES)
    assert formula.names <= MEASURES | {PERIOD_DAYS}
    # stored text is already canonical, so what the UI shows is what was parsed
    assert str(formula) == spec.formula


@pytest.mark.parametrize("spec", BUILTIN_METRICS, ids=lambda m: m.key)
def test_definition_is_complete_and_bilingual(spec):
    assert spec.unit in {"money", "fraction", "count", "hours", "days", "ratio"}
    assert spec.direction in set(Direction)
    assert spec.version == 1
    assert spec.name_en.strip() and CJK.search(spec.name_zh)
    assert len(spec.includes_en) > 60 and len(spec.includes_zh) > 30
    assert CJK.search(spec.includes_zh)
    assert not CJK.search(spec.includes_en.replace("头程", ""))


@pytest.mark.parametrize(
    "key, direction",
    [
        ("gmv", "higher_better"), ("cvr", "higher_better"), ("acos", "lower_better"),
        ("tacos", "lower_better"), ("roas", "higher_better"), ("refund_rate", "lower_better"),
        ("negative_feedback_rate", "lower_better"), ("fba_in_stock_rate", "higher_better"),
        ("net_profit", "higher_better"), ("cpc", "lower_better"),
    ],
)
def test_directions(key, direction):
    assert metric(key).direction == direction


@pytest.mark.parametrize(
    "key, unit",
    [("acos", "fraction"), ("cvr", "fraction"), ("gmv", "money"), ("roas", "ratio"),
     ("days_of_supply", "days"), ("units", "count"), ("cpc", "money")],
)
def test_units(key, unit):
    assert metric(key).unit == unit


def test_chinese_names_use_seller_vocabulary():
    assert "广告销售成本比" in metric("acos").name_zh
    assert metric("cvr").name_zh == "转化率"
    assert metric("refund_rate").name_zh == "退款率"
    assert metric("days_of_supply").name_zh == "库存可售天数"


@pytest.mark.parametrize(
    "key, words",
    [
        ("gmv", ["cancelled", "VAT"]),
        ("acos", ["never an average", "7 days"]),
        ("ad_sales", ["7 days", "14 days"]),
        ("net_profit", ["referral", "FBA", "COGS", "never also from the ads reports"]),
        ("gross_margin", ["NOT subtracted"]),
        ("negative_feedback_rate", ["product reviews are not counted"]),
        ("days_of_supply", ["average units on hand / average units sold per day"]),
    ],
)
def test_includes_state_the_traps(key, words):
    for word in words:
        assert word in metric(key).includes_en


# --------------------------------------------------------------------------- worked examples


def test_acos_is_recomputed_from_sums():
    # two days: 10/100 and 30/50; the mean of daily ACoS (0.35) would be wrong
    assert evaluate("acos", ad_spend="40", ad_sales="150") == D(40) / D(150)


def test_ratios_without_a_denominator_have_no_data():
    assert evaluate("acos", ad_spend="12", ad_sales="0") is None
    assert evaluate("cvr", units_ordered="0", sessions="0") is None


def test_gross_margin():
    value = evaluate(
        "gross_margin", ordered_sales="1000", refund_amount="50", cogs="300", inbound_freight="50"
    )
    assert value == D("0.6")


def test_net_profit_subtracts_fees_stored_as_positive_amounts():
    value = evaluate(
        "net_profit",
        settled_product_sales="1000",
        settled_shipping="20",
        settled_refunds="30",
        referral_fees="150",
        fulfillment_fees="200",
        storage_fees="10",
        promotion_costs="5",
        advertising_cost_settled="100",
        other_fees="39.99",
        cogs="300",
        inbound_freight="40",
    )
    assert value == D("145.01")


def test_net_profit_needs_every_input():
    assert evaluate("net_profit", settled_product_sales="1000") is None


def test_days_of_supply_is_average_stock_over_average_daily_sales():
    # 30 daily snapshots of 300 units, 10 units sold a day: 30 days of supply
    days = evaluate("days_of_supply", fulfillable_units=str(30 * 300), units_ordered=str(30 * 10))
    assert days == D(30)


def test_fba_in_stock_rate():
    assert evaluate("fba_in_stock_rate", sku_days_in_stock="27", sku_days_tracked="30") == D("0.9")
