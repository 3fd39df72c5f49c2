"""Amazon Seller Central / SP-API parsers against fixtures built from DATA-FORMATS.md."""

import gzip
import json
from datetime import date

import pytest
from parser_fixtures import D, by_key, facts_on, fixture

from kpiapp.parsers import ParseError, parse_file

MAR1, MAR2, MAR3, MAR7 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3), date(2025, 3, 7)


# ---------------------------------------------------------------- Business Report

def test_business_report_us_current_header():
    r = parse_file(fixture("amazon_business_report_us.csv"), "BusinessReport-3-2-25.csv",
                   date_from=MAR2, date_to=MAR2)
    assert (r.parser, r.family, r.currency, r.errors) == (
        "amazon_business_report", "amazon_sales_traffic", "USD", [])
    assert r.rows_read == 3  # two ASIN rows + the total row, which is dropped
    got = by_key(r)
    assert got == {
        ("sessions", "B0C7CHILD1", ""): (D("510"), None),
        ("sessions_b2b", "B0C7CHILD1", ""): (D("5"), None),
        ("page_views", "B0C7CHILD1", ""): (D("756"), None),
        ("page_views_b2b", "B0C7CHILD1", ""): (D("7"), None),
        ("units_ordered", "B0C7CHILD1", ""): (D("41"), None),
        ("units_ordered_b2b", "B0C7CHILD1", ""): (D("1"), None),
        ("order_items", "B0C7CHILD1", ""): (D("39"), None),
        ("order_items_b2b", "B0C7CHILD1", ""): (D("1"), None),
        ("ordered_sales", "B0C7CHILD1", ""): (D("1066.59"), "USD"),
        ("ordered_sales_b2b", "B0C7CHILD1", ""): (D("25.99"), "USD"),
        ("featured_offer_page_views", "B0C7CHILD1", ""): (D("737.1"), None),
        ("sessions", "B0C7CHILD2", ""): (D("1250"), None),
        ("sessions_b2b", "B0C7CHILD2", ""): (D("0"), None),
        ("page_views", "B0C7CHILD2", ""): (D("1500"), None),
        ("page_views_b2b", "B0C7CHILD2", ""): (D("0"), None),
        ("units_ordered", "B0C7CHILD2", ""): (D("0"), None),
        ("units_ordered_b2b", "B0C7CHILD2", ""): (D("0"), None),
        ("order_items", "B0C7CHILD2", ""): (D("0"), None),
        ("order_items_b2b", "B0C7CHILD2", ""): (D("0"), None),
        ("ordered_sales", "B0C7CHILD2", ""): (D("0"), "USD"),
        ("ordered_sales_b2b", "B0C7CHILD2", ""): (D("0"), "USD"),
        ("featured_offer_page_views", "B0C7CHILD2", ""): (D("1500"), None),
    }
    assert {f.line for f in r.facts if f.sku == "B0C7CHILD1"} == {2}
    assert {f.line for f in r.facts if f.sku == "B0C7CHILD2"} == {3}
    assert all(f.business_date == MAR2 and f.period_end is None for f in r.facts)


def test_business_report_multi_day_range_sets_period_end():
    r = parse_file(fixture("amazon_business_report_us.csv"), "br.csv", date_from=MAR1, date_to=MAR7)
    assert {(f.business_date, f.period_end) for f in r.facts} == {(MAR1, MAR7)}


def test_business_report_needs_a_date_range():
    with pytest.raises(ParseError) as exc:
        parse_file(fixture("amazon_business_report_us.csv"), "br.csv")
    assert exc.value.code == "date_range_required"


def test_business_report_legacy_header_pounds_and_blank_row():
    r = parse_file(fixture("amazon_business_report_legacy.csv"), "br.csv", date_from=MAR2)
    got = by_key(r)
    assert r.currency == "GBP" and r.errors == []
    assert got[("ordered_sales", "B0C7CHILD1", "")] == (D("1066.59"), "GBP")
    assert got[("sessions", "B0C7CHILD3", "")] == (D("12"), None)
    assert got[("featured_offer_page_views", "B0C7CHILD3", "")] == (D("10"), None)  # 20 x 50%
    assert {f.line for f in r.facts if f.sku == "B0C7CHILD3"} == {4}


def test_business_report_zh_utf8_bom():
    data = fixture("amazon_business_report_zh_bom.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    got = by_key(parse_file(data, "业务报告.csv", date_from=MAR2))
    assert got == {
        ("sessions", "B0C7CHILD1", ""): (D("510"), None),
        ("sessions_b2b", "B0C7CHILD1", ""): (D("5"), None),
        ("page_views", "B0C7CHILD1", ""): (D("756"), None),
        ("units_ordered", "B0C7CHILD1", ""): (D("41"), None),
        ("order_items", "B0C7CHILD1", ""): (D("39"), None),
        ("ordered_sales", "B0C7CHILD1", ""): (D("1066.59"), "USD"),
        ("ordered_sales_b2b", "B0C7CHILD1", ""): (D("25.99"), "USD"),
        ("featured_offer_page_views", "B0C7CHILD1", ""): (D("737.1"), None),
    }


def test_business_report_ja_cp932():
    data = fixture("amazon_business_report_ja_cp932.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    r = parse_file(data, "BusinessReport.csv", date_from=MAR2)
    assert by_key(r) == {
        ("sessions", "B0C7CHILD1", ""): (D("1234"), None),
        ("page_views", "B0C7CHILD1", ""): (D("2000"), None),
        ("units_ordered", "B0C7CHILD1", ""): (D("41"), None),
        ("order_items", "B0C7CHILD1", ""): (D("39"), None),
        ("ordered_sales", "B0C7CHILD1", ""): (D("12345"), "JPY"),
    }


def test_business_report_de_cp1252_comma_decimals():
    data = fixture("amazon_business_report_de_cp1252.csv")
    assert b"\x96" in data and b"\x80" in data  # cp1252 en dash and euro sign
    r = parse_file(data, "Geschaeftsbericht.csv", date_from=MAR2)
    assert by_key(r) == {
        ("sessions", "B0C7CHILD1", ""): (D("1250"), None),
        ("page_views", "B0C7CHILD1", ""): (D("1800"), None),
        ("units_ordered", "B0C7CHILD1", ""): (D("41"), None),
        ("ordered_sales", "B0C7CHILD1", ""): (D("1699.15"), "EUR"),
    }


def test_business_report_bad_cells_become_row_errors():
    text = fixture("amazon_business_report_legacy.csv").decode()
    text = text.replace('"510"', '"=HYPERLINK(\\"x\\")"').replace('"£19.99"', '"lots"')
    r = parse_file(text.encode(), "br.csv", date_from=MAR2)
    assert [(e.line, e.column, e.code) for e in r.errors] == [
        (2, "Sessions", "formula_cell"), (4, "Ordered Product Sales", "bad_number")]
    assert r.facts == []


# ---------------------------------------------------------------- Sales & Traffic JSON

def _st_expected():
    return {
        ("ordered_sales", "", ""): (D("1066.59"), "USD"),
        ("units_ordered", "", ""): (D("41"), None),
        ("order_items", "", ""): (D("39"), None),
        ("units_refunded", "", ""): (D("2"), None),
        ("sessions", "", ""): (D("510"), None),
        ("page_views", "", ""): (D("756"), None),
        ("negative_feedback_orders", "", ""): (D("0"), None),
        ("featured_offer_page_views", "", ""): (D("737.1"), None),
        ("ordered_sales", "B0C7CHILD1", ""): (D("1066.59"), "USD"),
        ("units_ordered", "B0C7CHILD1", ""): (D("41"), None),
        ("order_items", "B0C7CHILD1", ""): (D("39"), None),
        ("sessions", "B0C7CHILD1", ""): (D("510"), None),
        ("page_views", "B0C7CHILD1", ""): (D("756"), None),
        ("featured_offer_page_views", "B0C7CHILD1", ""): (D("737.1"), None),
    }


def test_sales_traffic_json_matches_business_report_keys():
    r = parse_file(fixture("amazon_sales_traffic.json"), "report.json")
    assert (r.parser, r.family, r.errors, r.rows_read) == (
        "amazon_sales_traffic_json", "amazon_sales_traffic", [], 2)
    assert by_key(r) == _st_expected()
    assert all(f.business_date == MAR2 and f.period_end is None for f in r.facts)
    br = parse_file(fixture("amazon_business_report_us.csv"), "br.csv", date_from=MAR2)
    shared = {f.key for f in br.facts} & {f.key for f in r.facts}
    assert ("B0C7CHILD1", "sessions") in {(k[2], k[4]) for k in shared}


def test_sales_traffic_json_gzip_and_range():
    doc = json.loads(fixture("amazon_sales_traffic.json"))
    doc["reportSpecification"]["dataEndTime"] = "2025-03-08"
    doc["reportSpecification"]["reportOptions"]["dateGranularity"] = "WEEK"
    r = parse_file(gzip.compress(json.dumps(doc).encode()), "report.json.gz")
    assert {(f.sku, f.business_date, f.period_end) for f in r.facts} == {
        ("", MAR2, date(2025, 3, 8)), ("B0C7CHILD1", MAR2, date(2025, 3, 8))}


def test_sales_traffic_json_bad_values():
    doc = json.loads(fixture("amazon_sales_traffic.json"))
    doc["salesAndTrafficByDate"][0]["trafficByDate"]["sessions"] = "NaN"
    doc["salesAndTrafficByAsin"][0]["salesByAsin"]["unitsOrdered"] = 1e300
    r = parse_file(json.dumps(doc).encode(), "report.json")
    assert [(e.line, e.column, e.code) for e in r.errors] == [
        (1, "salesAndTrafficByDate[0].trafficByDate.sessions", "bad_number"),
        (1, "salesAndTrafficByAsin[0].salesByAsin.unitsOrdered", "bad_number")]
    assert r.facts == []


# ---------------------------------------------------------------- Settlement

def test_settlement_us_pivots_and_reconciles():
    r = parse_file(fixture("amazon_settlement_us.txt"), "18906543210.txt")
    assert (r.parser, r.family, r.currency, r.errors, r.rows_read) == (
        "amazon_settlement", "amazon_settlement", "USD", [], 18)
    ref = "18906543210"
    assert facts_on(r, MAR2) == {
        ("settled_product_sales", "BTL-750-BLU", ref): (D("2029.79"), "USD"),
        ("settled_shipping", "BTL-750-BLU", ref): (D("10.00"), "USD"),
        ("settled_tax", "BTL-750-BLU", ref): (D("8.00"), "USD"),
        ("referral_fees", "BTL-750-BLU", ref): (D("304.50"), "USD"),
        ("fulfillment_fees", "BTL-750-BLU", ref): (D("100.00"), "USD"),
        ("promotion_costs", "BTL-750-BLU", ref): (D("5.00"), "USD"),
        ("taxes_withheld", "BTL-750-BLU", ref): (D("8.00"), "USD"),
    }
    assert facts_on(r, date(2025, 3, 5)) == {
        ("settled_refunds", "BTL-750-RED", ref): (D("29.99"), "USD"),
        ("referral_fees", "BTL-750-RED", ref): (D("-3.60"), "USD"),  # 4.50 reversed, 0.90 kept
    }
    assert facts_on(r, MAR7) == {
        ("storage_fees", "", ref): (D("12.34"), "USD"),
        ("other_fees", "", ref): (D("39.99"), "USD"),
    }
    assert facts_on(r, date(2025, 3, 8)) == {("advertising_cost_settled", "", ref): (D("98.56"), "USD")}
    assert facts_on(r, date(2025, 3, 9)) == {("reimbursements", "BTL-750-BLU", ref): (D("15.00"), "USD")}
    # the reserve line has no posted date: it takes the settlement end date
    assert facts_on(r, date(2025, 3, 15)) == {("other_settlement_amounts", "", ref): (D("100.00"), "USD")}
    lines = {(f.measure, f.business_date): f.line for f in r.facts}
    assert lines[("settled_product_sales", MAR2)] == 3 and lines[("storage_fees", MAR7)] == 15


def test_settlement_unbalanced_total_is_reported():
    data = fixture("amazon_settlement_us.txt").replace(b"1568.01", b"1600.00")
    r = parse_file(data, "s.txt")
    assert [(e.line, e.column, e.code) for e in r.errors] == [(2, "total-amount", "settlement_unbalanced")]


def test_settlement_de_dates_and_comma_decimals():
    r = parse_file(fixture("amazon_settlement_de.txt"), "s.txt")
    assert r.errors == [] and r.currency == "EUR"
    assert by_key(r) == {
        ("settled_product_sales", "FL-750-BL", "22901234567"): (D("1299.99"), "EUR"),
        ("referral_fees", "FL-750-BL", "22901234567"): (D("45.50"), "EUR"),
        ("fulfillment_fees", "FL-750-BL", "22901234567"): (D("26.20"), "EUR"),
    }


def test_settlement_posted_time_moves_to_store_zone():
    r = parse_file(fixture("amazon_settlement_de.txt"), "s.txt", tz="Europe/Berlin")
    days = {f.measure: f.business_date for f in r.facts}
    assert days["referral_fees"] == MAR2
    assert days["fulfillment_fees"] == MAR3  # 23:30 UTC is 00:30 in Berlin


def test_settlement_iso_offset_dates():
    text = fixture("amazon_settlement_de.txt").decode()
    text = text.replace("02.03.2025 07:14:09 UTC", "2025-03-02T07:14:09+00:00")
    r = parse_file(text.encode(), "s.txt")
    assert r.errors == [] and {f.business_date for f in r.facts} == {MAR2}


def test_settlement_rolls_up_sku_less_lines_into_group_total():
    text = fixture("amazon_settlement_us.txt").decode()
    cells = next(line for line in text.splitlines() if "Subscription Fee" in line).split("\t")
    cells[13], cells[14], cells[21] = "Inbound Fee", "-1.00", "BTL-750-BLU"
    data = (text + "\t".join(cells) + "\n").replace("1568.01", "1567.01").encode()
    r = parse_file(data, "s.txt")
    got = facts_on(r, MAR7)
    assert got[("other_fees", "BTL-750-BLU", "18906543210")] == (D("1.00"), "USD")
    assert got[("other_fees", "", "18906543210")] == (D("40.99"), "USD")  # total incl. the SKU line


# ---------------------------------------------------------------- All orders

def test_all_orders_full_measure_set_per_item():
    r = parse_file(fixture("amazon_orders_all.txt"), "orders.txt")
    assert (r.parser, r.family, r.currency, r.errors, r.rows_read) == (
        "amazon_orders", "amazon_orders", "USD", [], 5)
    o1, o2, o3, o4 = ("112-3456789-000000%d" % i for i in range(1, 5))
    assert facts_on(r, MAR2) == {
        ("units_ordered", "BTL-750-BLU", o1): (D("2"), None),
        ("order_items", "BTL-750-BLU", o1): (D("1"), None),
        ("ordered_sales", "BTL-750-BLU", o1): (D("51.98"), "USD"),
        ("units_cancelled", "BTL-750-BLU", o1): (D("0"), None),
        ("cancelled_sales", "BTL-750-BLU", o1): (D("0"), "USD"),
        ("seller_discounts", "BTL-750-BLU", o1): (D("5.00"), "USD"),
        ("orders", "", o1): (D("1"), None),
        # Pending: item-price blank -> 0 until re-imported
        ("units_ordered", "BTL-750-BLU", o2): (D("1"), None),
        ("order_items", "BTL-750-BLU", o2): (D("1"), None),
        ("ordered_sales", "BTL-750-BLU", o2): (D("0"), "USD"),
        ("units_cancelled", "BTL-750-BLU", o2): (D("0"), None),
        ("cancelled_sales", "BTL-750-BLU", o2): (D("0"), "USD"),
        ("seller_discounts", "BTL-750-BLU", o2): (D("0"), "USD"),
        ("orders", "", o2): (D("1"), None),
    }
    day3 = facts_on(r, MAR3)
    assert day3[("units_cancelled", "BTL-750-RED", o3)] == (D("1"), None)
    assert day3[("cancelled_sales", "BTL-750-RED", o3)] == (D("25.99"), "USD")
    assert day3[("orders", "", o4)] == (D("1"), None)  # one order, two items
    assert day3[("ordered_sales", "LID-STD", o4)] == (D("14.97"), "USD")
    assert day3[("seller_discounts", "LID-STD", o4)] == (D("1.50"), "USD")
    assert len([f for f in r.facts if f.ref == o4]) == 13


def test_all_orders_status_change_keeps_the_same_keys():
    first = parse_file(fixture("amazon_orders_all.txt"), "orders.txt")
    pending = "Pending\tAmazon\tAmazon.com\t\t\tExpedited\tInsulated Bottle\tBTL-750-BLU\tB0C7CHILD1\t"
    text = fixture("amazon_orders_all.txt").decode().replace(
        pending + "Unshipped\t1\t\t", pending.replace("Pending", "Shipped") + "Shipped\t1\tUSD\t25.99")
    second = parse_file(text.encode(), "orders.txt")
    assert {f.key for f in first.facts} == {f.key for f in second.facts}
    value = {f.key: f.value for f in second.facts}
    assert value[(MAR2, None, "BTL-750-BLU", "112-3456789-0000002", "ordered_sales", "")] == D("25.99")


def test_all_orders_purchase_date_in_store_zone():
    r = parse_file(fixture("amazon_orders_all.txt"), "orders.txt", tz="America/Los_Angeles")
    days = {f.ref: f.business_date for f in r.facts}
    assert days["112-3456789-0000003"] == MAR2  # 03:30 UTC is the evening before in LA


def test_all_orders_without_any_currency_needs_store_currency():
    text = fixture("amazon_orders_all.txt").decode().replace("\tUSD\t", "\t\t")
    r = parse_file(text.encode(), "orders.txt")
    assert {e.code for e in r.errors} == {"missing_currency"} and r.facts == []
    r = parse_file(text.encode(), "orders.txt", currency="USD")
    assert r.errors == [] and r.currency == "USD"


# ---------------------------------------------------------------- Inventory

def test_inventory_snapshot():
    r = parse_file(fixture("amazon_inventory_myi.txt"), "myi.txt", date_from=MAR2)
    assert (r.parser, r.family, r.errors, r.rows_read) == ("amazon_inventory", "amazon_inventory", [], 3)
    got = by_key(r)
    assert {k: v[0] for k, v in got.items() if k[1] == "BTL-750-BLU"} == {
        ("fulfillable_units", "BTL-750-BLU", ""): D("380"),
        ("mfn_fulfillable_units", "BTL-750-BLU", ""): D("0"),
        ("inbound_units", "BTL-750-BLU", ""): D("120"),
        ("reserved_units", "BTL-750-BLU", ""): D("25"),
        ("unsellable_units", "BTL-750-BLU", ""): D("7"),
        ("sku_days_tracked", "BTL-750-BLU", ""): D("1"),
        ("sku_days_in_stock", "BTL-750-BLU", ""): D("1"),
    }
    assert got[("sku_days_in_stock", "BTL-750-RED", "")][0] == D("0")
    assert got[("inbound_units", "BTL-750-RED", "")][0] == D("15")
    assert got[("sku_days_in_stock", "LID-STD", "")][0] == D("1")  # MFN-only listing with stock
    assert {f.business_date for f in r.facts} == {MAR2}


def test_inventory_needs_snapshot_date():
    with pytest.raises(ParseError) as exc:
        parse_file(fixture("amazon_inventory_myi.txt"), "myi.txt")
    assert exc.value.code == "date_range_required"


def test_business_report_zh_saved_by_excel_as_gbk():
    text = fixture("amazon_business_report_zh_bom.csv").decode("utf-8-sig")
    r = parse_file(text.encode("gb18030"), "业务报告.csv", date_from=MAR2)
    assert by_key(r) == by_key(parse_file(fixture("amazon_business_report_zh_bom.csv"), "b.csv", date_from=MAR2))
