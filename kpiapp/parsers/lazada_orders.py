"""Lazada orders: Seller Center order export (CSV/XLSX) and Open Platform /orders/items/get JSON.

Lazada has no quantity: every order item is one unit, in the export (one row per
orderItemId) and in the API (one object per order_item_id). So per (order, SKU):
units_ordered = items, order_items = 1, ordered_sales = item price less the seller-funded
discount (export unitPrice - |sellerDiscountTotal|, API item_price - |voucher_seller|),
seller/platform discounts, cancelled and returned units by item status; orders = 1 per
order at sku "". ref = the order number in both forms, so a pulled day replaces an
uploaded one. Export quirks: camelCase headers, createTime like "18 Oct 2026 14:05",
amounts with thousands separators and negative discounts, order numbers that a spreadsheet
turned into 5.12E+14 (refused with the line and column named). API times carry an offset
("2026-11-02 14:05:00 +0800") and move to the store's zone.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (DEFAULT_FORMATS, CellError, Collector, Columns, as_dict, as_list,
                                   check_currency, container_kind, is_total_row, load_json, local_date,
                                   read_sheet, records, sheet_currency, to_decimal)

KEY = "lazada_orders"
FAMILY = "lazada_orders"
ZERO, ONE = Decimal(0), Decimal(1)
ORDER_NUMBER = re.compile(r"^\d{6,20}$")
EXPORT_TIMES = DEFAULT_FORMATS + ("%d %b %Y %H:%M", "%d %b %Y %H:%M:%S", "%d %B %Y %H:%M", "%d/%m/%Y %H:%M")
_CANCELLED = ("canceled", "cancelled")
_RETURNED = ("returned", "return", "refunded")

COLUMNS = Columns(
    aliases={
        "order_id": ("orderNumber", "Order Number"),
        "created": ("createTime", "Created Time"),
        "sku": ("sellerSku", "Seller SKU"),
        "lazada_sku": ("lazadaSku", "Lazada SKU"),
        "item_name": ("itemName", "Item Name"),
        "unit_price": ("unitPrice", "Unit Price"),
        "paid_price": ("paidPrice", "Paid Price"),
        "seller_discount": ("sellerDiscountTotal", "Seller Discount Total"),
        "platform_discount": ("platformDiscountTotal", "Platform Discount Total"),
        "status": ("status", "Status"),
        "refund": ("refundAmount", "Refund Amount"),
    },
    required=("order_id", "created", ("sku", "lazada_sku", "item_name"), ("unit_price", "paid_price"),
              "status"),
    ignored=("orderItemId", "orderType", "Guarantee", "deliveryType", "lazadaId", "wareHouse", "updateTime",
             "rtsSla", "ttsSla", "invoiceRequired", "invoiceNumber", "deliveredDate", "customerName",
             "customerEmail", "nationalRegistrationNumber", "shippingName", "shippingAddress",
             "shippingAddress2", "shippingAddress3", "shippingAddress4", "shippingAddress5", "shippingPhone",
             "shippingPhone2", "shippingCity", "shippingPostCode", "shippingCountry", "shippingRegion",
             "billingName", "billingAddr", "billingAddr2", "billingAddr3", "billingAddr4", "billingAddr5",
             "billingPhone", "billingPhone2", "billingCity", "billingPostCode", "billingCountry", "taxCode",
             "branchNumber", "taxInvoiceRequested", "payMethod", "shippingFee", "walletCredit", "variation",
             "cdShippingProvider", "shippingProvider", "shipmentTypeName", "shippingProviderType",
             "cdTrackingCode", "trackingCode", "trackingUrl", "shippingProviderFM", "trackingCodeFM",
             "trackingUrlFM", "promisedShippingTime", "premium", "buyerFailedDeliveryReturnInitiator",
             "buyerFailedDeliveryReason", "buyerFailedDeliveryDetail", "buyerFailedDeliveryUserName",
             "bundleId", "bundleDiscount", "semiManaged", "sellerNote"),
)
_MONEY = ("unit_price", "paid_price", "seller_discount", "platform_discount", "refund")


def matches(obj) -> bool:
    """True for /orders/items/get JSON (orders holding order_items)."""
    orders = _orders(obj)
    return bool(orders) and all("order_items" in o for o in orders[:3])


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a Lazada order export or order-items JSON into per-(order, SKU) facts."""
    if container_kind(data, opts.filename) == "json":
        return _parse_api(load_json(data), opts)
    return _parse_export(data, opts)


# ---- the Seller Center export ---------------------------------------------------------------

def _parse_export(data: bytes, opts: Options) -> ParseResult:
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY, sheet_currency(sheet, _MONEY, opts.currency))
    out.adopt(sheet)
    seen: set[tuple[str, str]] = set()
    for rec in records(sheet, opts.currency):
        if is_total_row(rec, "order_id") and not ORDER_NUMBER.match(str(rec.raw("order_id") or "")):
            out.skip("total")
            continue
        with out.row(rec.line) as row:
            _export_row(row, rec, seen, opts)
    return out.result()


def _export_row(row, rec, seen: set, opts: Options) -> None:
    order = rec.text("order_id")
    if not ORDER_NUMBER.match(order):
        raise CellError("bad_key", "Not a Lazada order number (a spreadsheet may have rounded it): %s"
                        % (order[:40] or "(empty)"), rec.label("order_id"))
    day = local_date(rec.timestamp("created", EXPORT_TIMES), opts.tz)
    sku = rec.text("sku") or rec.text("lazada_sku") or rec.text("item_name")
    price, currency = rec.money("unit_price") if rec.has("unit_price") else rec.money("paid_price")
    seller, seller_cur = rec.money("seller_discount") if rec.has("seller_discount") else (None, None)
    platform, platform_cur = rec.money("platform_discount") if rec.has("platform_discount") else (None, None)
    refund, refund_cur = rec.money("refund") if rec.has("refund") else (None, None)
    seller = abs(seller or ZERO)
    currency = currency or seller_cur or platform_cur or refund_cur
    if rec.has("refund"):
        row.add(day, "refund_amount", abs(refund or ZERO), refund_cur or currency, sku=sku, ref=order)
    item = _Item(sku, (price or ZERO) - (seller if rec.has("unit_price") else ZERO), seller,
                 abs(platform or ZERO), rec.text("status"))
    _add_item(row, day, order, item, currency, seen)  # last: `seen` only counts a whole row


# ---- the API ------------------------------------------------------------------------------

def _orders(obj) -> list[dict]:
    if isinstance(obj, list):
        return [o for o in obj if isinstance(o, dict)]
    obj = as_dict(obj)
    if "order_items" in obj:
        return [obj]
    data = obj.get("data")
    if isinstance(data, list):
        return [o for o in data if isinstance(o, dict)]
    return [o for o in as_list(as_dict(data).get("orders")) if isinstance(o, dict)]


def _parse_api(doc, opts: Options) -> ParseResult:
    orders = _orders(doc)
    if not orders and not isinstance(doc, list) and not isinstance(as_dict(doc).get("data"), list):
        raise ParseError("wrong_format", "This JSON is not a Lazada order items response.")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, order in enumerate(orders, start=1):
        with out.row(i) as row:
            _api_order(row, order, opts)
    return out.result()


def _api_order(row, order: dict, opts: Options) -> None:
    number = str(order.get("order_number") or order.get("order_id") or "").strip()
    if not number:
        raise CellError("missing_value", "No order_number.", "order_number")
    seen: set[tuple[str, str]] = set()
    for j, raw in enumerate(as_list(order.get("order_items"))):
        item = as_dict(raw)
        path = "order_items[%d]." % j
        day = local_date(_api_time(item.get("created_at"), path + "created_at"), opts.tz)
        currency = check_currency(item["currency"], path + "currency") if item.get("currency") else None
        seller = abs(_number(item, "voucher_seller", path))
        sku = str(item.get("sku") or item.get("shop_sku") or item.get("name") or "").strip()
        entry = _Item(sku, _number(item, "item_price", path) - seller, seller,
                      abs(_number(item, "voucher_platform", path)), str(item.get("status") or ""))
        _add_item(row, day, number, entry, currency, seen)


def _api_time(value, column: str) -> datetime:
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise CellError("bad_date", "Not a date: %s" % text[:40], column)


def _number(item: dict, field: str, path: str) -> Decimal:
    value = item.get(field)
    return ZERO if value in (None, "") else to_decimal(value, path + field)


# ---- shared -----------------------------------------------------------------------------

class _Item:
    __slots__ = ("sku", "sales", "seller", "platform", "status")

    def __init__(self, sku, sales, seller, platform, status):
        self.sku, self.sales, self.seller, self.platform = sku, sales, seller, platform
        self.status = status.strip().casefold()


def _add_item(row, day, order: str, item: _Item, currency, seen: set) -> None:
    """One unit of one order line; order_items and orders are counted once per key."""
    cancelled = item.status in _CANCELLED
    key = dict(sku=item.sku, ref=order)
    row.add(day, "units_ordered", ONE, **key)
    row.add(day, "ordered_sales", item.sales, currency, **key)
    row.add(day, "seller_discounts", item.seller, currency, **key)
    row.add(day, "platform_discounts", item.platform, currency, **key)
    row.add(day, "units_cancelled", ONE if cancelled else ZERO, **key)
    row.add(day, "cancelled_sales", item.sales if cancelled else ZERO, currency, **key)
    row.add(day, "units_refunded", ONE if item.status in _RETURNED else ZERO, **key)
    if (order, item.sku) not in seen:
        row.add(day, "order_items", ONE, **key)
    if (order, "") not in seen:
        row.add(day, "orders", ONE, ref=order)
    seen.update({(order, item.sku), (order, "")})
