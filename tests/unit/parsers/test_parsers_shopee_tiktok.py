"""Shopee and TikTok Shop order/escrow parsers."""

import json
from datetime import date, datetime

import pytest
from parser_fixtures import D, by_key, facts_on, fixture, xlsx_bytes

from kpiapp.parsers import ParseError, detect, parse_file

MAR2, MAR3 = date(2025, 3, 2), date(2025, 3, 3)

SHOPEE_EN = [
    "Order ID", "Order Status", "Cancel reason", "Return / Refund Status", "Tracking Number*",
    "Shipping Option", "Estimated Ship Out Date", "Ship Time", "Order Creation Date", "Order Paid Time",
    "Parent SKU Reference No.", "Product Name", "SKU Reference No.", "Variation Name", "Original Price",
    "Deal Price", "Quantity", "Returned quantity", "Product Subtotal", "Total Discount(PHP)",
    "Price Discount(from Seller)(PHP)", "Shopee Rebate(PHP)", "Seller Voucher(PHP)", "Shopee Voucher(PHP)",
    "Shopee Coins Offset(PHP)", "Buyer Paid Shipping Fee", "Reverse Shipping Fee", "Service Fee",
    "Grand Total", "Estimated Shipping Fee", "Username (Buyer)"]


def _shopee_row(order, status, created, parent, sku, price, qty, returned, subtotal, voucher, shopee_v,
                coins, fee, name="Insulated Bottle", variation="Blue"):
    return [order, status, "", "", "TRK1", "Standard", "", "", created, created, parent, name, sku, variation,
            "699.00", price, qty, returned, subtotal, "100", "100", "0", voucher, shopee_v, coins, "0", "0",
            fee, "1249.00", "50", "buyer1"]


def _shopee_en_xlsx():
    rows = [SHOPEE_EN,
            _shopee_row("250302K7QX1ABC", "Completed", "2025-03-02 14:05", "BTL-750", "BTL-750-BLU", "599.00",
                        2, 0, "1,198.00", "20.00", "30.00", "5.00", "37.47"),
            _shopee_row("250302K7QX1ABC", "Completed", "2025-03-02 14:05", "LID", "LID-STD", "51.00", 1, 1,
                        "51.00", "20.00", "30.00", "5.00", "37.47"),
            _shopee_row("250302K7QX2DEF", "Cancelled", datetime(2025, 3, 3, 9, 0), "BTL-750", "", "599.00",
                        1, 0, "599.00", "0", "0", "0", "0", name="Insulated Bottle", variation="Red")]
    return xlsx_bytes(rows, "orders")


def test_shopee_export_xlsx_dedupes_order_level_amounts():
    data = _shopee_en_xlsx()
    assert detect(data, "Order.all.20250302_20250303.xlsx") == "shopee_orders"
    r = parse_file(data, "Order.all.20250302_20250303.xlsx")
    assert (r.parser, r.family, r.currency, r.errors, r.rows_read) == (
        "shopee_orders", "shopee_orders", "PHP", [], 3)
    o1, o2 = "250302K7QX1ABC", "250302K7QX2DEF"
    assert facts_on(r, MAR2) == {
        ("units_ordered", "BTL-750-BLU", o1): (D("2"), None),
        ("order_items", "BTL-750-BLU", o1): (D("1"), None),
        ("ordered_sales", "BTL-750-BLU", o1): (D("1198.00"), "PHP"),
        ("units_refunded", "BTL-750-BLU", o1): (D("0"), None),
        ("units_cancelled", "BTL-750-BLU", o1): (D("0"), None),
        ("cancelled_sales", "BTL-750-BLU", o1): (D("0"), "PHP"),
        ("units_ordered", "LID-STD", o1): (D("1"), None),
        ("order_items", "LID-STD", o1): (D("1"), None),
        ("ordered_sales", "LID-STD", o1): (D("51.00"), "PHP"),
        ("units_refunded", "LID-STD", o1): (D("1"), None),
        ("units_cancelled", "LID-STD", o1): (D("0"), None),
        ("cancelled_sales", "LID-STD", o1): (D("0"), "PHP"),
        # order level, taken once although repeated on both item rows
        ("orders", "", o1): (D("1"), None),
        ("seller_discounts", "", o1): (D("20.00"), "PHP"),
        ("platform_discounts", "", o1): (D("35.00"), "PHP"),
        ("service_fees", "", o1): (D("37.47"), "PHP"),
    }
    day3 = facts_on(r, MAR3)
    assert day3[("units_cancelled", "BTL-750", o2)] == (D("1"), None)  # falls back to the parent SKU
    assert day3[("cancelled_sales", "BTL-750", o2)] == (D("599.00"), "PHP")
    assert {f.line for f in r.facts if f.ref == o2} == {4}


def test_shopee_export_indonesian_headers():
    header = ["No. Pesanan", "Status Pesanan", "Waktu Pesanan Dibuat", "Nomor Referensi SKU", "Nama Produk",
              "Harga Setelah Diskon", "Jumlah", "Voucher Ditanggung Penjual(IDR)"]
    rows = [header,
            ["2503020001", "Selesai", "2025-03-02 10:00", "BTL-750-BLU", "Botol", "150.000", 2, "10.000"],
            ["2503020002", "Batal", "2025-03-02 11:00", "BTL-750-BLU", "Botol", "150.000", 1, "0"]]
    r = parse_file(xlsx_bytes(rows), "pesanan.xlsx")
    assert r.currency == "IDR" and r.errors == []
    got = by_key(r)
    assert got[("ordered_sales", "BTL-750-BLU", "2503020001")] == (D("300000"), "IDR")  # deal price x qty
    assert got[("seller_discounts", "", "2503020001")] == (D("10000"), "IDR")
    assert got[("units_cancelled", "BTL-750-BLU", "2503020002")] == (D("1"), None)


def test_shopee_export_vietnamese_headers_need_store_currency():
    header = ["Mã đơn hàng", "Trạng Thái Đơn Hàng", "Ngày đặt hàng", "SKU phân loại hàng", "Giá ưu đãi",
              "Số lượng"]
    rows = [header, ["2503020003", "Hoàn thành", "2025-03-02 09:15", "BTL-750-BLU", "250.000", 1]]
    data = xlsx_bytes(rows)
    assert {e.code for e in parse_file(data, "don_hang.xlsx").errors} == {"missing_currency"}
    r = parse_file(data, "don_hang.xlsx", currency="VND")
    assert by_key(r)[("ordered_sales", "BTL-750-BLU", "2503020003")] == (D("250000"), "VND")


def test_shopee_api_order_detail():
    r = parse_file(fixture("shopee_order_detail.json"), "orders.json", tz="Asia/Manila")
    assert (r.parser, r.currency, r.errors, r.rows_read) == ("shopee_orders", "PHP", [], 2)
    o1 = "250302K7QX1ABC"
    assert facts_on(r, MAR2) == {
        ("units_ordered", "BTL-750-BLU", o1): (D("2"), None),
        ("order_items", "BTL-750-BLU", o1): (D("1"), None),
        ("ordered_sales", "BTL-750-BLU", o1): (D("1198"), "PHP"),
        ("units_refunded", "BTL-750-BLU", o1): (D("0"), None),
        ("units_cancelled", "BTL-750-BLU", o1): (D("0"), None),
        ("cancelled_sales", "BTL-750-BLU", o1): (D("0"), "PHP"),
        ("units_ordered", "LID-STD", o1): (D("1"), None),
        ("order_items", "LID-STD", o1): (D("1"), None),
        ("ordered_sales", "LID-STD", o1): (D("51"), "PHP"),
        ("units_refunded", "LID-STD", o1): (D("0"), None),
        ("units_cancelled", "LID-STD", o1): (D("0"), None),
        ("cancelled_sales", "LID-STD", o1): (D("0"), "PHP"),
        ("orders", "", o1): (D("1"), None),
    }
    cancelled = facts_on(r, MAR3)
    assert cancelled[("units_cancelled", "BTL-750-BLU", "250302K7QX2DEF")] == (D("1"), None)
    assert cancelled[("cancelled_sales", "BTL-750-BLU", "250302K7QX2DEF")] == (D("599"), "PHP")


def test_shopee_escrow_fees():
    data = fixture("shopee_escrow_detail.json")
    assert detect(data, "escrow.json") == "shopee_escrow"
    with pytest.raises(ParseError) as exc:
        parse_file(data, "escrow.json", currency="PHP")
    assert exc.value.code == "date_range_required"
    r = parse_file(data, "escrow.json", currency="PHP", date_from=date(2025, 3, 9))
    assert (r.parser, r.family, r.errors) == ("shopee_escrow", "shopee_escrow", [])
    ref = "250302K7QX1ABC"
    assert by_key(r) == {
        ("escrow_amount", "", ref): (D("1050.25"), "PHP"),
        ("commission_fees", "", ref): (D("62.45"), "PHP"),
        ("service_fees", "", ref): (D("37.47"), "PHP"),
        ("transaction_fees", "", ref): (D("24.98"), "PHP"),
        ("shipping_fees", "", ref): (D("0"), "PHP"),  # 120 + 0 - 80 - 40
        ("seller_discounts", "", ref): (D("70.0"), "PHP"),
        ("platform_discounts", "", ref): (D("30.0"), "PHP"),
        ("other_fees", "", ref): (D("12.5"), "PHP"),
        ("refund_amount", "", ref): (D("0"), "PHP"),
    }
    assert {f.business_date for f in r.facts} == {date(2025, 3, 9)}


def test_shopee_escrow_without_store_currency_is_a_row_error():
    r = parse_file(fixture("shopee_escrow_detail.json"), "escrow.json", date_from=MAR2)
    assert [(e.line, e.code) for e in r.errors] == [(1, "missing_currency")] and r.facts == []


def test_tiktok_export_us_description_row_and_tabs():
    data = fixture("tiktok_orders_us.csv")
    assert detect(data, "To ship order-2025-03-03.csv") == "tiktok_orders"
    r = parse_file(data, "To ship order-2025-03-03.csv", currency="USD")
    assert (r.parser, r.family, r.errors, r.rows_read) == ("tiktok_orders", "tiktok_orders", [], 3)
    o1, o2 = "576543210987654321", "576543210987654322"
    assert by_key(r) == {
        ("units_ordered", "BTL-750-BLU", o1): (D("2"), None),
        ("order_items", "BTL-750-BLU", o1): (D("1"), None),
        ("ordered_sales", "BTL-750-BLU", o1): (D("46.98"), "USD"),
        ("units_refunded", "BTL-750-BLU", o1): (D("0"), None),
        ("units_cancelled", "BTL-750-BLU", o1): (D("0"), None),
        ("cancelled_sales", "BTL-750-BLU", o1): (D("0"), "USD"),
        ("seller_discounts", "BTL-750-BLU", o1): (D("3.00"), "USD"),
        ("platform_discounts", "BTL-750-BLU", o1): (D("2.00"), "USD"),
        ("orders", "", o1): (D("1"), None),
        ("refund_amount", "", o1): (D("0"), "USD"),
        ("units_ordered", "LID-STD", o1): (D("1"), None),
        ("order_items", "LID-STD", o1): (D("1"), None),
        ("ordered_sales", "LID-STD", o1): (D("4.99"), "USD"),
        ("units_refunded", "LID-STD", o1): (D("0"), None),
        ("units_cancelled", "LID-STD", o1): (D("0"), None),
        ("cancelled_sales", "LID-STD", o1): (D("0"), "USD"),
        ("seller_discounts", "LID-STD", o1): (D("0"), "USD"),
        ("platform_discounts", "LID-STD", o1): (D("0"), "USD"),
        ("units_ordered", "BTL-750-BLU", o2): (D("1"), None),
        ("order_items", "BTL-750-BLU", o2): (D("1"), None),
        ("ordered_sales", "BTL-750-BLU", o2): (D("25.99"), "USD"),
        ("units_refunded", "BTL-750-BLU", o2): (D("0"), None),
        ("units_cancelled", "BTL-750-BLU", o2): (D("1"), None),
        ("cancelled_sales", "BTL-750-BLU", o2): (D("25.99"), "USD"),
        ("seller_discounts", "BTL-750-BLU", o2): (D("0"), "USD"),
        ("platform_discounts", "BTL-750-BLU", o2): (D("0"), "USD"),
        ("orders", "", o2): (D("1"), None),
        ("refund_amount", "", o2): (D("25.99"), "USD"),
    }
    assert {f.line for f in r.facts if f.ref == o2} == {5}  # header 1, description 2, data from 3
    assert {f.business_date for f in r.facts} == {MAR2}  # '03/02/2025 11:02:00 PM' is March 2


def test_tiktok_export_brazil_amounts():
    r = parse_file(fixture("tiktok_orders_br.csv"), "pedidos.csv")
    assert r.currency == "BRL" and r.errors == []
    got = by_key(r)
    ref = "576543210987650001"
    assert got[("ordered_sales", "GARRAFA-750", ref)] == (D("1234.56"), "BRL")
    assert got[("seller_discounts", "GARRAFA-750", ref)] == (D("10.00"), "BRL")
    assert got[("units_refunded", "GARRAFA-750", ref)] == (D("1"), None)
    assert got[("refund_amount", "", ref)] == (D("411.52"), "BRL")


def test_tiktok_api_counts_line_items_and_zeroes_samples():
    r = parse_file(fixture("tiktok_orders_api.json"), "orders.json", tz="America/Los_Angeles")
    assert (r.parser, r.currency, r.errors) == ("tiktok_orders", "USD", [])
    got = by_key(r)
    o1, sample = "576543210987654321", "576543210987654399"
    assert got[("units_ordered", "BTL-750-BLU", o1)] == (D("2"), None)  # two line items
    assert got[("ordered_sales", "BTL-750-BLU", o1)] == (D("46.98"), "USD")
    assert got[("seller_discounts", "BTL-750-BLU", o1)] == (D("3.00"), "USD")
    assert got[("order_items", "BTL-750-BLU", o1)] == (D("1"), None)
    assert got[("units_ordered", "1729384757", o1)] == (D("1"), None)  # no seller_sku -> sku_id
    assert got[("orders", "", o1)] == (D("1"), None)
    assert got[("units_ordered", "BTL-750-BLU", sample)] == (D("0"), None)
    assert got[("orders", "", sample)] == (D("0"), None)
    assert {f.business_date for f in r.facts} == {MAR2}


def test_tiktok_api_string_amount_errors_are_row_errors():
    doc = json.loads(fixture("tiktok_orders_api.json"))
    doc["data"]["orders"][0]["line_items"][0]["sale_price"] = "twenty"
    r = parse_file(json.dumps(doc).encode(), "orders.json")
    assert [(e.line, e.column, e.code) for e in r.errors] == [(1, "line_items[0].sale_price", "bad_number")]
    assert {f.ref for f in r.facts} == {"576543210987654399"}
