"""Hypothesis property per parser over generated rows (issue 9).

For every parser, 42 generated files of 12 rows each (504 rows per parser): plausible cells
mixed with hostile ones and ragged rows. Whatever the rows, parse_file returns a result or
raises ParseError (never anything else), no row with an error keeps a fact, and every row is
accounted for: read (imported or rejected), or skipped as a total/description row, never lost.
"""

import csv
import io
import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_fixtures import fixture

from kpiapp.parsers import ParseError, parse_file, parse_fx

ROWS, EXAMPLES = 12, 42
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
NASTY = st.sampled_from(["", "-1", "-0", "NaN", "1e999", "9" * 40, "=1+1", "@SUM(A1)", "Total", "合计",
                         "2099-03-02", "31.02.2025", "１２３", "1.2.3", "$", "(5)", "\u202e", "🙂", " "])
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


def fixture_table(name, delim, first):
    rows = list(csv.reader(io.StringIO(fixture(name).decode("utf-8-sig"), newline=""), delimiter=delim))
    return rows[0], rows[first]


SHOPEE = (["Order ID", "Order Status", "Order Creation Date", "SKU Reference No.", "Product Name",
           "Quantity", "Product Subtotal", "Seller Voucher", "Service Fee"],
          ["250302K7QX1ABC", "Completed", "2025-03-02 10:00", "BTL-1", "Bottle", "2", "1198.00", "10", "5"])
TABLES = {
    "amazon_business_report": (fixture_table("amazon_business_report_us.csv", ",", 1), ",",
                               {"date_from": date(2025, 3, 2)}),
    "amazon_settlement": (fixture_table("amazon_settlement_us.txt", "\t", 2), "\t", {}),
    "amazon_orders": (fixture_table("amazon_orders_all.txt", "\t", 1), "\t", {}),
    "amazon_inventory": (fixture_table("amazon_inventory_myi.txt", "\t", 1), "\t",
                         {"date_from": date(2025, 3, 2)}),
    "amazon_ads": (fixture_table("amazon_ads_console_campaign.csv", ",", 1), ",", {}),
    "shopee_orders": (SHOPEE, ",", {"currency": "PHP"}),
    "tiktok_orders": (fixture_table("tiktok_orders_us.csv", ",", 2), ",", {"currency": "USD"}),
    "generic": (fixture_table("generic.csv", ",", 1), ",", {}),
    "fx": (fixture_table("fx.csv", ",", 1), ",", {}),
}


def cell(good):
    return st.one_of(st.just(good), st.just(good), st.just(good), NASTY, TEXT)


def rows_for(template):
    row = st.tuples(*[cell(v) for v in template]).map(list)
    shape = st.sampled_from(["keep"] * 6 + ["drop", "add"])
    return st.lists(st.tuples(row, shape), min_size=ROWS, max_size=ROWS)


def reshape(row, shape):
    return row[:-1] if shape == "drop" else row + ["x"] if shape == "add" else row


def check_table(key, header, rows, delim, options):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\n").writerows([header] + rows)
    data = buf.getvalue().encode("utf-8")
    name = "f.txt" if delim == "\t" else "f.csv"
    lines = sum(1 for r in rows if any(c.strip() for c in r))
    try:
        if key == "fx":
            rates, errors = parse_fx(data, name)
            assert len(rates) + len({e.line for e in errors}) == lines
            return
        result = parse_file(data, name, parser=key, **options)
    except ParseError as exc:
        assert exc.code and exc.message
        return
    bad = {e.line for e in result.errors}
    assert not [f for f in result.facts if f.line in bad]
    described = sum(w.params["count"] for w in result.warnings if w.code == "description_rows_skipped")
    assert result.rows_read + described == lines


def run_table_property(key):
    (header, template), delim, options = TABLES[key]
    seen = []

    @SETTINGS
    @given(rows_for(template))
    def prop(drawn):
        rows = [reshape(row, shape) for row, shape in drawn]
        seen.append(len(rows))
        check_table(key, header, rows, delim, options)

    prop()
    assert sum(seen) >= 500


def test_business_report_property():
    run_table_property("amazon_business_report")


def test_settlement_property():
    run_table_property("amazon_settlement")


def test_orders_property():
    run_table_property("amazon_orders")


def test_inventory_property():
    run_table_property("amazon_inventory")


def test_ads_console_property():
    run_table_property("amazon_ads")


def test_shopee_export_property():
    run_table_property("shopee_orders")


def test_tiktok_export_property():
    run_table_property("tiktok_orders")


def test_generic_property():
    run_table_property("generic")


def test_fx_property():
    run_table_property("fx")


# ---------------------------------------------------------------- JSON sources

NUMBER = st.one_of(st.integers(-5, 10**6), st.decimals(-10, 10**6, places=2).map(str), NASTY, st.none())
DAY = st.sampled_from(["2025-03-02", "2025-03-01", "2099-03-02", "2025-02-30", "", "x"])
UNIX = st.one_of(st.just(1740902400), st.just(4070908800), st.integers(-10, 5 * 10**9), NASTY)

ENTRIES = {
    "amazon_sales_traffic_json": (
        st.fixed_dictionaries({"date": DAY, "trafficByDate": st.fixed_dictionaries(
            {"sessions": NUMBER, "pageViews": NUMBER, "buyBoxPercentage": NUMBER}),
            "salesByDate": st.fixed_dictionaries({"unitsOrdered": NUMBER, "orderedProductSales": st.one_of(
                NUMBER, st.fixed_dictionaries({"amount": NUMBER,
                                               "currencyCode": st.sampled_from(["USD", "X"])}))})}),
        lambda entries: {"salesAndTrafficByDate": entries}, {}),
    "amazon_ads": (
        st.fixed_dictionaries({"date": DAY, "campaignId": st.one_of(st.just("314"), TEXT),
                               "impressions": NUMBER, "clicks": NUMBER, "cost": NUMBER, "sales7d": NUMBER,
                               "purchases7d": NUMBER,
                               "campaignBudgetCurrencyCode": st.sampled_from(["USD", "", "XX1"])}),
        lambda entries: entries, {"currency": "USD"}),
    "shopee_orders": (
        st.fixed_dictionaries({"order_sn": st.one_of(st.just("250302K7QX1ABC"), TEXT), "create_time": UNIX,
                               "currency": st.sampled_from(["PHP", "", "1"]), "order_status": TEXT,
                               "item_list": st.lists(st.fixed_dictionaries({
                                   "model_sku": TEXT, "model_quantity_purchased": NUMBER,
                                   "model_discounted_price": NUMBER}), max_size=3)}),
        lambda entries: {"response": {"order_list": entries}}, {"currency": "PHP"}),
    "shopee_escrow": (
        st.fixed_dictionaries({"order_sn": st.one_of(st.just("250302K7QX1ABC"), TEXT), "create_time": UNIX,
                               "order_income": st.fixed_dictionaries({
                                   "escrow_amount": NUMBER, "commission_fee": NUMBER,
                                   "service_fee": NUMBER})}),
        lambda entries: entries, {"currency": "PHP", "date_from": date(2025, 3, 2)}),
    "tiktok_orders": (
        st.fixed_dictionaries({"id": st.one_of(st.just("5765"), TEXT), "create_time": UNIX, "status": TEXT,
                               "payment": st.fixed_dictionaries({"currency": st.sampled_from(["USD", ""])}),
                               "line_items": st.lists(st.fixed_dictionaries({
                                   "seller_sku": TEXT, "sale_price": NUMBER, "seller_discount": NUMBER}),
                                   min_size=1, max_size=3)}),
        lambda entries: {"data": {"orders": entries}}, {"currency": "USD"}),
}


def run_json_property(key):
    entry, wrap, options = ENTRIES[key]
    seen = []

    @SETTINGS
    @given(st.lists(entry, min_size=ROWS, max_size=ROWS))
    def prop(entries):
        seen.append(len(entries))
        data = json.dumps(wrap(entries), default=str).encode()
        try:
            result = parse_file(data, "f.json", parser=key, **options)
        except ParseError as exc:
            assert exc.code and exc.message
            return
        bad = {e.line for e in result.errors}
        assert not [f for f in result.facts if f.line in bad]
        assert result.rows_read == len(entries)

    prop()
    assert sum(seen) >= 500


def test_sales_traffic_json_property():
    run_json_property("amazon_sales_traffic_json")


def test_ads_api_property():
    run_json_property("amazon_ads")


def test_shopee_api_property():
    run_json_property("shopee_orders")


def test_shopee_escrow_property():
    run_json_property("shopee_escrow")


def test_tiktok_api_property():
    run_json_property("tiktok_orders")
