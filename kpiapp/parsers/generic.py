"""The documented generic template (CSV or XLSX) for ERP and manual data.

Columns: date,store,sku,measure,value,currency. measure must be a BASE_MEASURES key;
currency (ISO 4217) is required for money measures and ignored for the others.
Each (date, store, sku, measure) may appear once.
"""

from __future__ import annotations

from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.parsers.base import Options, ParseResult
from kpiapp.parsers.common import CellError, Collector, Columns, read_sheet, records

KEY = "generic"
FAMILY = "generic"
HEADER = ("date", "store", "sku", "measure", "value", "currency")
EXAMPLE_ROWS = (
    ("2025-03-01", "US-MAIN", "BTL-750-BLU", "cogs", "8.40", "USD"),
    ("2025-03-01", "US-MAIN", "", "cs_messages", "12", ""),
)

COLUMNS = Columns(
    aliases={
        "date": ("date", "日期"),
        "store": ("store", "店铺"),
        "sku": ("sku",),
        "measure": ("measure", "指标"),
        "value": ("value", "数值"),
        "currency": ("currency", "币种"),
    },
    required=("date", "measure", "value"),
)


def template_csv() -> str:
    """The template: header plus two example rows, CRLF line ends as Excel expects."""
    lines = [",".join(HEADER)] + [",".join(row) for row in EXAMPLE_ROWS]
    return "\r\n".join(lines) + "\r\n"


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a filled-in generic template."""
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY)
    out.adopt(sheet)
    for rec in records(sheet):
        with out.row(rec.line) as row:
            measure = rec.text("measure").lower()
            if measure not in BASE_MEASURES:
                raise CellError("unknown_measure", "Unknown measure: %s" % measure[:40], rec.label("measure"))
            value = rec.number("value")
            if value is None:
                raise CellError("missing_value", "The value is empty.", rec.label("value"))
            currency = rec.currency("currency") if BASE_MEASURES[measure].unit == "money" else None
            if BASE_MEASURES[measure].unit == "money" and not currency:
                raise CellError("missing_currency", "%s needs a currency." % measure, rec.label("currency"))
            row.add(rec.date("date", serial=True), measure, value, currency, sku=rec.text("sku"),
                    store_code=rec.text("store"), mode="unique")
    return out.result()
