"""Amazon all-orders flat file (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL). §3b.

One row per order item; ref = amazon-order-id, sku = seller SKU. Every item emits
the full measure set (zeros included) so a re-import after Pending -> Shipped ->
Cancelled overwrites every earlier value. item-price is the line total and is
blank while Pending (stored as 0 until the order is re-imported).
"""

from __future__ import annotations

import re
from decimal import Decimal

from kpiapp.parsers.base import Options, ParseResult
from kpiapp.parsers.common import (CellError, Collector, Columns, column_currency, is_total_row, local_date,
                                   read_sheet, records)

KEY = "amazon_orders"
FAMILY = "amazon_orders"

COLUMNS = Columns(
    aliases={
        "order_id": ("amazon-order-id",),
        "purchase_date": ("purchase-date",),
        "status": ("order-status",),
        "item_status": ("item-status",),
        "sku": ("sku",),
        "quantity": ("quantity", "quantity-purchased"),
        "currency": ("currency",),
        "item_price": ("item-price",),
        "item_promo": ("item-promotion-discount",),
        "ship_promo": ("ship-promotion-discount",),
    },
    required=("order_id", "purchase_date", "sku", "quantity", "item_price"),
    ignored=("merchant-order-id", "last-updated-date", "fulfillment-channel", "sales-channel",
             "order-channel", "url", "ship-service-level", "product-name", "asin", "item-tax",
             "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "ship-city",
             "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
             "purchase-order-number", "price-designation"),
    expected=(("order_id", "orders"), ("quantity", "units_ordered"), ("item_price", "ordered_sales"),
              ("item_promo", "seller_discounts")),
)
ZERO = Decimal(0)
# 3 digits (or a channel prefix such as S01), 7 digits, 7 digits: 112-3456789-0000001
ORDER_ID = re.compile(r"^[0-9A-Z]{3}-\d{7}-\d{7}$")


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse an all-orders flat file into per-(order, SKU) sales facts."""
    sheet = read_sheet(data, opts.filename, COLUMNS)
    file_currency = column_currency(records(sheet, opts.currency), "currency")
    out = Collector(KEY, FAMILY, file_currency or opts.currency)
    out.adopt(sheet)
    seen_orders: set[str] = set()
    for rec in records(sheet, opts.currency):
        if is_total_row(rec, "order_id") and not ORDER_ID.match(str(rec.raw("order_id") or "")):
            out.skip("total")
            continue
        with out.row(rec.line) as row:
            order = rec.text("order_id")
            if not ORDER_ID.match(order):
                raise CellError("bad_key", "Not an Amazon order id: %s" % (order[:40] or "(empty)"),
                                rec.label("order_id"))
            day = local_date(rec.timestamp("purchase_date"), opts.tz)
            currency = rec.currency("currency")
            qty = rec.number("quantity", ZERO)
            price = rec.number("item_price", ZERO)
            discount = abs(rec.number("item_promo", ZERO)) + abs(rec.number("ship_promo", ZERO))
            cancelled = "cancel" in (rec.text("status") + rec.text("item_status")).casefold()
            item = dict(sku=rec.text("sku"), ref=order)
            row.add(day, "units_ordered", qty, **item)
            row.add(day, "order_items", Decimal(1), **item)
            row.add(day, "ordered_sales", price, currency, **item)
            row.add(day, "units_cancelled", qty if cancelled else ZERO, **item)
            row.add(day, "cancelled_sales", price if cancelled else ZERO, currency, **item)
            row.add(day, "seller_discounts", discount, currency, **item)
            if order not in seen_orders:
                row.add(day, "orders", Decimal(1), ref=order)
                seen_orders.add(order)
    return out.result()
