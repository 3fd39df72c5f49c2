"""The Lazada order parser: Seller Center export (with its quirks) and the API JSON the connector saves."""
import json
from datetime import date
from decimal import Decimal

import pytest

from kpiapp.parsers import ParseError, detect, parse_file

HEADER = ("\ufefforderItemId,orderType,lazadaId,sellerSku,lazadaSku,createTime,updateTime,orderNumber,"
          "payMethod,paidPrice,unitPrice,sellerDiscountTotal,shippingFee,itemName,variation,status,refundAmount ")
ROWS = [
    # two units of one SKU and one of another in one order; a discount written negative
    "901,Normal,11,BTL-750-BLU,123_MY-1,02 Nov 2026 14:05,03 Nov 2026 10:00,512345678901234,COD,"
    "\"1,049.00\",\"1,099.00\",-50.00,4.90,Bottle,Blue,delivered,0",
    "902,Normal,11,BTL-750-BLU,123_MY-1,02 Nov 2026 14:05,03 Nov 2026 10:00,512345678901234,COD,"
    "\"1,049.00\",\"1,099.00\",-50.00,4.90,Bottle,Blue,delivered,0",
    "903,Normal,12,MUG-350-WHT,124_MY-2,02 Nov 2026 14:05,03 Nov 2026 10:00,512345678901234,COD,"
    "39.00,39.00,0.00,0,Mug,White,returned,39.00",
    # Lazada's spelling of cancelled
    "904,Normal,12,MUG-350-WHT,124_MY-2,03 Nov 2026 09:00,03 Nov 2026 10:00,512345678900001,COD,"
    "39.00,39.00,0.00,0,Mug,White,canceled,0",
    # an order number a spreadsheet rounded, and a date that is not one
    "905,Normal,12,MUG-350-WHT,124_MY-2,03 Nov 2026 09:00,03 Nov 2026 10:00,5.12346E+14,COD,"
    "39.00,39.00,0.00,0,Mug,White,delivered,0",
    "906,Normal,12,MUG-350-WHT,124_MY-2,31 Nov 2026 09:00,03 Nov 2026 10:00,512345678900002,COD,"
    "39.00,39.00,0.00,0,Mug,White,delivered,0",
]


def export(rows=ROWS):
    return ("\r\n".join([HEADER] + rows) + "\r\n").encode()


def values(result):
    return {(f.business_date, f.sku, f.ref, f.measure): f.value for f in result.facts}


def test_export_is_detected_and_read_per_order_and_sku():
    assert detect(export(), "OrderExport.csv") == "lazada_orders"
    result = parse_file(export(), "OrderExport.csv", tz="Asia/Kuala_Lumpur", currency="MYR")
    got = values(result)
    day, order = date(2026, 11, 2), "512345678901234"
    assert got[(day, "BTL-750-BLU", order, "units_ordered")] == 2
    assert got[(day, "BTL-750-BLU", order, "order_items")] == 1
    assert got[(day, "BTL-750-BLU", order, "ordered_sales")] == Decimal("2098.00")  # (1,099 - 50) x 2
    assert got[(day, "BTL-750-BLU", order, "seller_discounts")] == Decimal("100.00")
    assert got[(day, "MUG-350-WHT", order, "units_refunded")] == 1
    assert got[(day, "MUG-350-WHT", order, "refund_amount")] == Decimal("39.00")
    assert got[(day, "", order, "orders")] == 1
    cancelled = (date(2026, 11, 3), "MUG-350-WHT", "512345678900001")
    assert got[cancelled + ("units_cancelled",)] == 1 and got[cancelled + ("cancelled_sales",)] == Decimal("39.00")
    assert all(f.currency == "MYR" for f in result.facts if f.measure in ("ordered_sales", "refund_amount"))


def test_bad_rows_are_refused_with_their_line_and_column():
    result = parse_file(export(), "OrderExport.csv", tz="Asia/Kuala_Lumpur", currency="MYR")
    errors = {(e.line, e.column, e.code) for e in result.errors}
    assert errors == {(6, "orderNumber", "bad_key"), (7, "createTime", "bad_date")}
    assert not [f for f in result.facts if f.line in (6, 7)]
    assert result.rows_read == 6


def test_an_export_without_the_order_number_is_refused_whole():
    rows = [HEADER.replace("orderNumber", "orderNo")] + ROWS[:1]
    with pytest.raises(ParseError) as caught:
        parse_file(("\n".join(rows)).encode(), "x.csv", parser="lazada_orders")
    assert caught.value.code == "missing_columns"


def api_response(items):
    return json.dumps({"code": "0", "request_id": "x", "data": [
        {"order_number": "512345678901234", "order_id": 512345678901234, "order_items": items}]}).encode()


def api_item(item_id, sku, price, seller, status="delivered"):
    return {"order_item_id": item_id, "order_id": 512345678901234, "sku": sku, "shop_sku": "123_MY-1",
            "name": "Bottle", "item_price": price, "paid_price": price - seller, "voucher_seller": seller,
            "voucher_platform": 0, "status": status, "currency": "MYR",
            "created_at": "2026-11-02 14:05:00 +0800"}


def test_api_json_gives_the_same_facts_as_the_export():
    items = [api_item(901, "BTL-750-BLU", 1099.00, 50.00), api_item(902, "BTL-750-BLU", 1099.00, 50.00),
             api_item(903, "MUG-350-WHT", 39.00, 0, "returned")]
    data = api_response(items)
    assert detect(data, "LZD-MY_orders.json") == "lazada_orders"
    pulled = values(parse_file(data, "LZD-MY_orders.json", tz="Asia/Kuala_Lumpur", currency="MYR"))
    uploaded = values(parse_file(export(ROWS[:3]), "OrderExport.csv", tz="Asia/Kuala_Lumpur", currency="MYR"))
    uploaded = {k: v for k, v in uploaded.items() if k[3] != "refund_amount"}  # the API names no refund
    assert pulled == uploaded


def test_api_times_move_to_the_store_zone_and_bad_times_are_named():
    late = api_item(1, "LID-STD", 10.0, 0) | {"created_at": "2026-11-02 23:30:00 +0000"}
    got = parse_file(api_response([late]), "x.json", parser="lazada_orders", tz="Asia/Kuala_Lumpur",
                     currency="MYR")
    assert {f.business_date for f in got.facts} == {date(2026, 11, 3)}
    broken = api_item(1, "LID-STD", 10.0, 0) | {"created_at": "yesterday"}
    bad = parse_file(api_response([broken]), "x.json", parser="lazada_orders", currency="MYR")
    assert [(e.line, e.column, e.code) for e in bad.errors] == [(1, "order_items[0].created_at", "bad_date")]


def finance_response(rows):
    return json.dumps({"code": "0", "request_id": "x", "data": rows}).encode()


def transaction(fee_name, amount, order="512345678901234", sku="BTL-750-BLU", day="02 Nov 2026"):
    return {"transaction_date": day, "amount": amount, "fee_name": fee_name, "order_no": order, "seller_sku": sku,
            "transaction_number": "T1", "transaction_type": "Orders-Sales", "paid_status": "Paid"}


def test_finance_transactions_land_in_one_measure_each():
    rows = [transaction("Item Price Credit", "1099.00"), transaction("Commission", "-43.96"),
            transaction("Reversal Commission", "10.00"), transaction("Payment Fee", "-21.98"),
            transaction("Reversal Item Price", "-39.00", sku="MUG-350-WHT"),
            transaction("Brand new fee", "-1.50"), transaction("Lazada Bonus", "3.00")]
    data = finance_response(rows)
    assert detect(data, "LZD-MY_finance.json") == "lazada_finance"
    got = values(parse_file(data, "LZD-MY_finance.json", currency="MYR"))
    day, order = date(2026, 11, 2), "512345678901234"
    assert got[(day, "BTL-750-BLU", order, "settled_product_sales")] == Decimal("1099.00")
    assert got[(day, "BTL-750-BLU", order, "commission_fees")] == Decimal("33.96")  # net of the reversal
    assert got[(day, "BTL-750-BLU", order, "transaction_fees")] == Decimal("21.98")
    assert got[(day, "MUG-350-WHT", order, "settled_refunds")] == Decimal("39.00")
    assert got[(day, "BTL-750-BLU", order, "other_fees")] == Decimal("1.50")
    assert got[(day, "BTL-750-BLU", order, "other_settlement_amounts")] == Decimal("3.00")


def test_a_bad_finance_row_is_named():
    data = finance_response([transaction("Commission", "-1.00"), transaction("Commission", "lots", day="x")])
    result = parse_file(data, "f.json", parser="lazada_finance", currency="MYR")
    assert [(e.line, e.column, e.code) for e in result.errors] == [(2, "transaction_date", "bad_date")]
    assert len(result.facts) == 1


def test_shopee_ads_daily_performance_json():
    data = json.dumps({"request_id": "x", "response": [
        {"date": "17-11-2026", "impression": 12000, "clicks": 240, "ctr": 2.0, "direct_order": 7, "broad_order": 9,
         "direct_item_sold": 8, "broad_item_sold": 11, "direct_gmv": 315.5, "broad_gmv": 405.0, "expense": 88.2,
         "cost_per_conversion": 9.8, "direct_roas": 3.58, "broad_roas": 4.59},
        {"date": "31-11-2026", "impression": 1, "clicks": 0, "expense": 0, "broad_order": 0, "broad_gmv": 0,
         "broad_item_sold": 0, "direct_gmv": 0, "direct_item_sold": 0}]}).encode()
    assert detect(data, "SHP-SG_ads.json") == "shopee_ads"
    result = parse_file(data, "SHP-SG_ads.json", currency="SGD")
    got = {(f.business_date, f.measure): f.value for f in result.facts}
    assert got[(date(2026, 11, 17), "ad_spend")] == Decimal("88.2")
    assert got[(date(2026, 11, 17), "ad_sales")] == Decimal("405.0")
    assert got[(date(2026, 11, 17), "ad_sales_same_sku")] == Decimal("315.5")
    assert got[(date(2026, 11, 17), "ad_orders")] == 9
    assert [(e.line, e.column, e.code) for e in result.errors] == [(2, "date", "bad_date")]  # no 31 November
