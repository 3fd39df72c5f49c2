"""Amazon all-orders flat file (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL). §3b.

One row per order item; ref = amazon-order-id, sku = seller SKU. Every item emits
the full measure set (zeros included) so a re-import after Pending -> Shipped ->
Cancelled overwrites every earlier value. item-price is the line total and is
blank while Pending (stored as 0 until the order is re-imported).
"""

from __future__ import annotations

from decimal import Decimal

from kpiapp.parsers.base import Options, ParseResult
from kpiapp.parsers.common import Collector, Columns, local_date, read_sheet, records

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
)
ZERO = Decimal(0)


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse an all-orders flat file into per-(order, SKU) sales facts."""
    sheet = read_sheet(data, opts.filename, COLUMNS)
    rows = list(records(sheet, opts.currency))
    file_currency = next((r.text("currency") for r in rows if str(r.raw("currency") or "").strip()), None)
    out = Collector(KEY, FAMILY, file_currency or opts.currency)
    seen_orders: set[str] = set()
    for rec in rows:
        with out.row(rec.line) as row:
            order = rec.text("order_id")
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
