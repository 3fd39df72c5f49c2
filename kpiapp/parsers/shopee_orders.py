"""Shopee orders: Seller Centre order export (XLSX/CSV) and Open API get_order_detail JSON. §5.

One export row per order item; ref = order id, sku = SKU Reference No. (model
SKU), else the parent SKU, else 'product name / variation'. Order-level amounts
repeat on every item row, so they are taken once per order and stored at sku="".
Every (order, sku) gets the full measure set, zeros included.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (CellError, Collector, Columns, as_dict, as_list, check_currency,
                                   container_kind, is_total_row, load_json, local_date, read_sheet,
                                   records, to_decimal, unix_date)

KEY = "shopee_orders"
FAMILY = "shopee_orders"
ZERO, ONE = Decimal(0), Decimal(1)
_CANCEL_WORDS = ("cancel", "batal", "hủy", "huỷ", "ยกเลิก")

# English and the localised headers named in DATA-FORMATS; other id/vi/th spellings are
# best guesses to confirm against a real download.
COLUMNS = Columns(
    aliases={
        "order_id": ("Order ID", "No. Pesanan", "Mã đơn hàng", "หมายเลขคำสั่งซื้อ"),
        "status": ("Order Status", "Status Pesanan", "Trạng Thái Đơn Hàng", "สถานะการสั่งซื้อ"),
        "created": ("Order Creation Date", "Waktu Pesanan Dibuat", "Ngày đặt hàng",
                    "วันที่ทำการสั่งซื้อ"),
        "sku": ("SKU Reference No.", "Nomor Referensi SKU", "SKU phân loại hàng", "เลขอ้างอิง SKU"),
        "parent_sku": ("Parent SKU Reference No.", "SKU Induk", "SKU sản phẩm", "เลขอ้างอิง Parent SKU"),
        "product": ("Product Name", "Nama Produk", "Tên sản phẩm", "ชื่อสินค้า"),
        "variation": ("Variation Name", "Nama Variasi", "Tên phân loại hàng", "ชื่อตัวเลือก"),
        "quantity": ("Quantity", "Jumlah", "Số lượng", "จำนวน"),
        "returned": ("Returned quantity", "Jumlah Produk Dikembalikan", "Số lượng sản phẩm được hoàn trả",
                     "จำนวนที่คืน"),
        "subtotal": ("Product Subtotal", "Subtotal Produk", "Tổng giá bán (sản phẩm)", "ราคาขายสุทธิ"),
        "deal_price": ("Deal Price", "Harga Setelah Diskon", "Giá ưu đãi", "ราคาขาย"),
        "seller_voucher": ("Seller Voucher", "Voucher Ditanggung Penjual", "Mã giảm giá của Shop",
                           "โค้ดส่วนลดชำระโดยผู้ขาย"),
        "shopee_voucher": ("Shopee Voucher", "Voucher Ditanggung Shopee", "Mã giảm giá của Shopee",
                           "โค้ดส่วนลดชำระโดย Shopee"),
        "coins": ("Shopee Coins Offset", "Potongan Koin Shopee"),
        "service_fee": ("Service Fee", "Biaya Layanan", "Phí dịch vụ", "ค่าบริการ"),
    },
    required=("order_id", "created", "quantity", ("sku", "parent_sku", "product"),
              ("subtotal", "deal_price")),
    ignored=("Cancel reason", "Return / Refund Status", "Tracking Number*", "Shipping Option",
             "Estimated Ship Out Date", "Ship Time", "Order Paid Time", "Original Price",
             "Total Discount", "Price Discount(from Seller)", "Shopee Rebate", "Buyer Paid Shipping Fee",
             "Reverse Shipping Fee", "Grand Total", "Estimated Shipping Fee", "Username (Buyer)"),
)
# Shopee order numbers: date digits then letters and digits, e.g. 250302K7QX1ABC
ORDER_SN = re.compile(r"^[0-9A-Z]{8,24}$")


def matches(obj) -> bool:
    """True for get_order_detail JSON (an order list with order_sn and item_list)."""
    orders = _orders(obj)
    return bool(orders) and all("order_sn" in o and "item_list" in o for o in orders[:3])


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a Shopee order export or get_order_detail JSON into per-(order, SKU) facts."""
    if container_kind(data, opts.filename) == "json":
        return _parse_api(load_json(data), opts)
    return _parse_export(data, opts)


def _parse_export(data: bytes, opts: Options) -> ParseResult:
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY, sheet.currency or opts.currency)
    out.adopt(sheet)
    seen: set[str] = set()
    for rec in records(sheet, sheet.currency or opts.currency):
        if is_total_row(rec, "order_id") and not ORDER_SN.match(str(rec.raw("order_id") or "")):
            out.skip("total")
            continue
        with out.row(rec.line) as row:
            order = rec.text("order_id")
            if not ORDER_SN.match(order.upper()):
                raise CellError("bad_key", "Not a Shopee order number: %s" % (order[:40] or "(empty)"),
                                rec.label("order_id"))
            day = local_date(rec.timestamp("created"), opts.tz)
            qty = rec.number("quantity", ZERO)
            sales = rec.number("subtotal") if rec.has("subtotal") else None
            if sales is None:
                sales = rec.number("deal_price", ZERO) * qty
            cancelled = _is_cancelled(rec.text("status"))
            _add_item(row, day, order, _export_sku(rec), qty, sales, cancelled,
                      rec.number("returned", ZERO) if rec.has("returned") else ZERO)
            if order not in seen:
                _add_order_amounts(row, rec, day, order)
                seen.add(order)
    return out.result()


def _export_sku(rec) -> str:
    sku = rec.text("sku") or rec.text("parent_sku")
    if sku:
        return sku
    name, variation = rec.text("product"), rec.text("variation")
    return "%s / %s" % (name, variation) if variation else name


def _add_order_amounts(row, rec, day, order: str) -> None:
    row.add(day, "orders", ONE, ref=order)
    if rec.has("seller_voucher"):
        row.add(day, "seller_discounts", abs(rec.number("seller_voucher", ZERO)), ref=order)
    if rec.has("shopee_voucher") or rec.has("coins"):
        platform = abs(rec.number("shopee_voucher", ZERO)) + abs(rec.number("coins", ZERO))
        row.add(day, "platform_discounts", platform, ref=order)
    if rec.has("service_fee"):
        row.add(day, "service_fees", abs(rec.number("service_fee", ZERO)), ref=order)


def _add_item(row, day, order: str, sku: str, qty: Decimal, sales: Decimal, cancelled: bool,
              returned: Decimal, lines: Decimal = ONE, cancelled_units: Decimal | None = None,
              currency: str | None = None) -> None:
    if cancelled:
        cancelled_units = qty
    cancelled_units = cancelled_units or ZERO
    cancelled_sales = sales if cancelled else (sales / qty * cancelled_units if qty else ZERO)
    key = dict(sku=sku, ref=order)
    row.add(day, "units_ordered", qty, **key)
    row.add(day, "order_items", lines, **key)
    row.add(day, "ordered_sales", sales, currency, **key)
    row.add(day, "units_refunded", returned, **key)
    row.add(day, "units_cancelled", cancelled_units, **key)
    row.add(day, "cancelled_sales", cancelled_sales, currency, **key)


def _is_cancelled(status: str) -> bool:
    status = status.casefold()
    return any(word in status for word in _CANCEL_WORDS) and "in_cancel" not in status


def _orders(obj) -> list[dict]:
    if isinstance(obj, list):
        return [o for o in obj if isinstance(o, dict)]
    obj = as_dict(obj)
    if "order_sn" in obj:
        return [obj]
    inner = as_dict(obj.get("response")) or obj
    return [o for o in as_list(inner.get("order_list")) if isinstance(o, dict)]


def _parse_api(doc, opts: Options) -> ParseResult:
    orders = _orders(doc)
    if not orders and not isinstance(doc, list):
        raise ParseError("wrong_format", "This JSON is not a Shopee get_order_detail response.")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, order in enumerate(orders, start=1):
        with out.row(i) as row:
            sn = str(order.get("order_sn") or "").strip()
            if not sn:
                raise CellError("missing_value", "No order_sn.", "order_sn")
            day = unix_date(order.get("create_time"), opts.tz, "create_time")
            currency = check_currency(order["currency"], "currency") if order.get("currency") else None
            cancelled = str(order.get("order_status") or "").upper() == "CANCELLED"
            for sku, item in _api_items(order).items():
                _add_item(row, day, sn, sku, item["qty"], item["sales"], cancelled, item["returned"],
                          item["lines"], item["cancelled"], currency)
            row.add(day, "orders", ONE, ref=sn)
    return out.result()


def _api_items(order: dict) -> dict[str, dict]:
    items: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for j, item in enumerate(as_list(order.get("item_list"))):
        item = as_dict(item)
        path = "item_list[%d]." % j
        sku = str(item.get("model_sku") or item.get("item_sku") or item.get("model_id")
                  or item.get("item_id") or "").strip()
        qty = to_decimal(item.get("model_quantity_purchased", 0), path + "model_quantity_purchased")
        price = to_decimal(item.get("model_discounted_price", 0), path + "model_discounted_price")
        entry = items[sku]
        entry["qty"] += qty
        entry["sales"] += price * qty
        entry["lines"] += ONE
        entry["returned"] += to_decimal(item.get("returned_qty", 0), path + "returned_qty")
        entry["cancelled"] += to_decimal(item.get("cancelled_qty", 0), path + "cancelled_qty")
    return items
