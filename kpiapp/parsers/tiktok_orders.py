"""TikTok Shop orders: Seller Center export (CSV/XLSX) and API 202309 order JSON. §6.

ref = order id, sku = seller SKU (else the SKU ID) in both forms so they replace each
other. The export's row 2 is a description row; ids and times carry a trailing tab.
The API has no quantity: each line item is one unit, so line items are counted per SKU.
Sample and replacement orders (API only; the export has no flag) get zero sales measures.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (CellError, Collector, Columns, as_dict, as_list, check_currency,
                                   container_kind, is_total_row, load_json, local_date, read_sheet,
                                   records, sheet_currency, to_decimal, unix_date)

KEY = "tiktok_orders"
FAMILY = "tiktok_orders"
ZERO, ONE = Decimal(0), Decimal(1)

COLUMNS = Columns(
    aliases={
        "order_id": ("Order ID",),
        "status": ("Order Status",),
        "cancel_type": ("Cancelation/Return Type", "Cancellation/Return Type"),
        "sku_id": ("SKU ID",),
        "seller_sku": ("Seller SKU",),
        "quantity": ("Quantity",),
        "returned": ("Sku Quantity of return",),
        "sales": ("SKU Subtotal After Discount",),
        "platform_discount": ("SKU Platform Discount",),
        "seller_discount": ("SKU Seller Discount",),
        "refund": ("Order Refund Amount",),
        "created": ("Created Time",),
    },
    required=("order_id", "created", "quantity", ("seller_sku", "sku_id"), "sales"),
    ignored=("Order Substatus", "Normal or Pre-order", "Product Name", "Variation",
             "SKU Unit Original Price", "SKU Subtotal Before Discount", "Shipping Fee After Discount",
             "Original Shipping Fee", "Shipping Fee Seller Discount", "Shipping Fee Platform Discount",
             "Payment platform discount", "Taxes", "Order Amount", "Paid Time", "RTS Time",
             "Shipped Time", "Delivered Time", "Cancelled Time", "Cancel By", "Cancel Reason",
             "Fulfillment Type", "Warehouse Name", "Tracking ID", "Delivery Option",
             "Shipping Provider Name", "Buyer Message", "Buyer Username", "Recipient", "Phone #",
             "Zipcode", "Country", "State", "City", "Detail Address", "Additional address information",
             "Payment Method", "Weight(kg)", "Product Category", "Package ID", "Seller Note",
             "Checked Status", "Checked Marked by", "Province", "Municipality", "Barangay",
             "Regency and City", "Districts", "Villages", "Buyer Service Fee", "Handling Fee"),
)
ORDER_ID = re.compile(r"^\d{6,25}$")
_MONEY = ("sales", "platform_discount", "seller_discount", "refund")
_DISCOUNTS = (("seller_discounts", "seller_discount"), ("platform_discounts", "platform_discount"))


def matches(obj) -> bool:
    """True for API 202309 order JSON (orders with id and line_items)."""
    orders = _orders(obj)
    return bool(orders) and all("id" in o and "line_items" in o for o in orders[:3])


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a TikTok Shop order export or API order JSON into per-(order, SKU) facts."""
    if container_kind(data, opts.filename) == "json":
        return _parse_api(load_json(data), opts)
    return _parse_export(data, opts)


def _parse_export(data: bytes, opts: Options) -> ParseResult:
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY, sheet_currency(sheet, _MONEY, opts.currency))
    out.adopt(sheet)
    seen: set[str] = set()
    for n, rec in enumerate(records(sheet, opts.currency)):
        order = str(rec.raw("order_id") or "").strip()
        if n == 0 and not ORDER_ID.match(order) and rec.line == sheet.header_line + 1:
            out.skip("description")  # row 2 describes the columns
            continue
        if is_total_row(rec, "order_id") and not ORDER_ID.match(order):
            out.skip("total")
            continue
        with out.row(rec.line) as row:
            _export_row(row, rec, seen, opts)
    return out.result()


def _export_row(row, rec, seen: set[str], opts: Options) -> None:
    order = rec.text("order_id")
    if not ORDER_ID.match(order):
        raise CellError("bad_key", "Not a TikTok order id: %s" % (order[:40] or "(empty)"),
                        rec.label("order_id"))
    day = local_date(rec.timestamp("created"), opts.tz)
    sku = rec.text("seller_sku") or rec.text("sku_id")
    qty = rec.number("quantity", ZERO)
    sales, currency = rec.money("sales")
    sales = sales or ZERO
    cancelled = "cancel" in (rec.text("status") + " " + rec.text("cancel_type")).casefold()
    key = dict(sku=sku, ref=order)
    row.add(day, "units_ordered", qty, **key)
    row.add(day, "order_items", ONE, **key)
    row.add(day, "ordered_sales", sales, currency, **key)
    row.add(day, "units_refunded", rec.number("returned", ZERO), **key)
    row.add(day, "units_cancelled", qty if cancelled else ZERO, **key)
    row.add(day, "cancelled_sales", sales if cancelled else ZERO, currency, **key)
    for measure, column in _DISCOUNTS:
        value, symbol = rec.money(column)
        row.add(day, measure, abs(value or ZERO), symbol or currency, **key)
    if order not in seen:
        row.add(day, "orders", ONE, ref=order)
        if rec.has("refund"):
            value, symbol = rec.money("refund")
            row.add(day, "refund_amount", abs(value or ZERO), symbol or currency, ref=order)
        seen.add(order)  # last: a bad cell above leaves the order for its next row


def _orders(obj) -> list[dict]:
    if isinstance(obj, list):
        return [o for o in obj if isinstance(o, dict)]
    obj = as_dict(obj)
    if "line_items" in obj:
        return [obj]
    inner = as_dict(obj.get("data")) or obj
    return [o for o in as_list(inner.get("orders")) if isinstance(o, dict)]


def _flag(value) -> bool:
    return value is True or str(value).strip().casefold() in ("true", "1")


def _parse_api(doc, opts: Options) -> ParseResult:
    orders = _orders(doc)
    if not orders and not isinstance(doc, list):
        raise ParseError("wrong_format", "This JSON is not a TikTok Shop order response.")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, order in enumerate(orders, start=1):
        with out.row(i) as row:
            _api_order(row, order, opts)
    return out.result()


def _api_order(row, order: dict, opts: Options) -> None:
    order_id = str(order.get("id") or "").strip()
    if not order_id:
        raise CellError("missing_value", "No order id.", "id")
    day = unix_date(order.get("create_time"), opts.tz, "create_time")
    payment = as_dict(order.get("payment"))
    currency = check_currency(payment["currency"], "payment.currency") if payment.get("currency") else None
    counted = ZERO if _flag(order.get("is_sample_order")) or _flag(order.get("is_replacement_order")) else ONE
    cancelled = str(order.get("status") or "").upper() == "CANCELLED"
    for sku, item in _api_items(order).items():
        units, sales = item["units"] * counted, item["sales"] * counted
        key = dict(sku=sku, ref=order_id)
        row.add(day, "units_ordered", units, **key)
        row.add(day, "order_items", counted, **key)
        row.add(day, "ordered_sales", sales, currency, **key)
        row.add(day, "units_cancelled", units if cancelled else ZERO, **key)
        row.add(day, "cancelled_sales", sales if cancelled else ZERO, currency, **key)
        row.add(day, "seller_discounts", item["seller_discount"] * counted, currency, **key)
        row.add(day, "platform_discounts", item["platform_discount"] * counted, currency, **key)
    row.add(day, "orders", counted, ref=order_id)


def _api_items(order: dict) -> dict[str, dict]:
    items: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for j, line in enumerate(as_list(order.get("line_items"))):
        line = as_dict(line)
        path = "line_items[%d]." % j
        sku = str(line.get("seller_sku") or line.get("sku_id") or "").strip()
        entry = items[sku]
        entry["units"] += ONE
        for field in ("sale_price", "seller_discount", "platform_discount"):
            raw = line.get(field)
            value = ZERO if raw in (None, "") else abs(to_decimal(raw, path + field))
            entry["sales" if field == "sale_price" else field] += value
    return items
