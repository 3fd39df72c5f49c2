"""FBA Manage Inventory, unsuppressed (GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA). §3c.

A snapshot without a date column: the caller passes the snapshot date as date_from.
Per SKU: stock pools plus sku_days_tracked = 1 and sku_days_in_stock = 1 when the
SKU is sellable (FBA fulfillable > 0, or MFN fulfillable > 0 for MFN-only listings).
"""

from __future__ import annotations

from decimal import Decimal

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import CellError, Collector, Columns, is_total_row, read_sheet, records

KEY = "amazon_inventory"
FAMILY = "amazon_inventory"

COLUMNS = Columns(
    aliases={
        "sku": ("sku", "seller-sku"),
        "fnsku": ("fnsku",),
        "mfn_listing": ("mfn-listing-exists",),
        "mfn_fulfillable": ("mfn-fulfillable-quantity",),
        "afn_listing": ("afn-listing-exists",),
        "afn_fulfillable": ("afn-fulfillable-quantity",),
        "afn_unsellable": ("afn-unsellable-quantity",),
        "afn_reserved": ("afn-reserved-quantity",),
        "inbound_working": ("afn-inbound-working-quantity",),
        "inbound_shipped": ("afn-inbound-shipped-quantity",),
        "inbound_receiving": ("afn-inbound-receiving-quantity",),
    },
    required=("sku", "afn_fulfillable"),
    ignored=("asin", "product-name", "condition", "your-price", "afn-warehouse-quantity",
             "afn-total-quantity", "per-unit-volume", "afn-researching-quantity",
             "afn-reserved-future-supply", "afn-future-supply-buyable"),
)
ZERO, ONE = Decimal(0), Decimal(1)


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse an MYI inventory snapshot taken on opts.date_from."""
    if opts.date_from is None:
        raise ParseError("date_range_required",
                         "The inventory report has no date; choose the snapshot date.")
    day = opts.date_from
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY)
    out.adopt(sheet)
    seen: set[str] = set()
    for rec in records(sheet):
        if is_total_row(rec, "sku") and not str(rec.raw("fnsku") or "").strip():
            out.skip("total")
            continue
        with out.row(rec.line) as row:
            sku = rec.text("sku")
            if not sku:
                raise CellError("missing_value", "The SKU is empty.", rec.label("sku"))
            if sku in seen:
                raise CellError("duplicate_row", "SKU %s appears twice." % sku, rec.label("sku"))
            seen.add(sku)
            afn = rec.number("afn_fulfillable", ZERO)
            mfn = rec.number("mfn_fulfillable", ZERO)
            inbound = sum((rec.number(n, ZERO) for n in
                           ("inbound_working", "inbound_shipped", "inbound_receiving")), ZERO)
            listings = (rec.text("afn_listing").casefold(), rec.text("mfn_listing").casefold())
            mfn_only = listings == ("no", "yes")
            in_stock = (mfn if mfn_only else afn) > 0
            row.add(day, "fulfillable_units", afn, sku=sku)
            row.add(day, "mfn_fulfillable_units", mfn, sku=sku)
            row.add(day, "inbound_units", inbound, sku=sku)
            row.add(day, "reserved_units", rec.number("afn_reserved", ZERO), sku=sku)
            row.add(day, "unsellable_units", rec.number("afn_unsellable", ZERO), sku=sku)
            row.add(day, "sku_days_tracked", ONE, sku=sku)
            row.add(day, "sku_days_in_stock", ONE if in_stock else ZERO, sku=sku)
    return out.result()
