"""Amazon settlement report V2 flat file (tab-delimited). DATA-FORMATS §3a.

The summary row (total-amount filled, no amount-type) is not a fact; the amounts
of each settlement must add up to it. Every amount component is mapped to exactly
one measure, signed so that costs are positive; facts are summed per
(posted date, sku, settlement id, measure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from decimal import Decimal

from kpiapp.parsers.base import Options, ParseResult
from kpiapp.parsers.common import (ASIDE, CellError, Collector, Columns, Record, amount_reader, chunks,
                                   convert_column, is_total_row, local_date, make_fact, parse_date,
                                   parse_timestamp, read_sheet, read_text)

KEY = "amazon_settlement"
FAMILY = "amazon_settlement"

COLUMNS = Columns(
    aliases={
        "settlement_id": ("settlement-id",),
        "start": ("settlement-start-date",),
        "end": ("settlement-end-date",),
        "deposit": ("deposit-date",),
        "total": ("total-amount",),
        "currency": ("currency",),
        "tx": ("transaction-type",),
        "order_id": ("order-id",),
        "amount_type": ("amount-type",),
        "description": ("amount-description",),
        "amount": ("amount",),
        "posted_date": ("posted-date",),
        "posted_time": ("posted-date-time",),
        "sku": ("sku",),
    },
    required=("settlement_id", "amount_type", "amount", "total"),
    ignored=("merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name", "fulfillment-id",
             "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id",
             "quantity-purchased", "promotion-id"),
)
_SETTLEMENT_ID = re.compile(r"^\d{4,20}$")

INCOME, COST = 1, -1


@dataclass
class _Summary:
    line: int
    total: Decimal
    currency: str | None
    end: date | None
    lines_sum: Decimal = Decimal(0)


def classify(tx: str, amount_type: str, description: str) -> tuple[str, int]:
    """(measure, sign) for one amount component; sign turns cash into the measure's direction."""
    t, a, d = tx.casefold(), amount_type.casefold(), description.casefold().replace(" ", "")
    if "advertising" in a or "advertising" in d:
        return "advertising_cost_settled", COST
    if "promotion" in a:
        return "promotion_costs", COST
    if "withheld" in a or "withheld" in d:
        return "taxes_withheld", COST
    if a == "itemprice":
        return _item_price(t, d)
    if "storage" in d:
        return "storage_fees", COST
    if "reimburse" in a or "reimburse" in d:
        return "reimbursements", INCOME
    if a == "itemfees" or "fee" in a:
        return _item_fee(d)
    if "fee" in d or "subscription" in d:
        return "other_fees", COST
    return "other_settlement_amounts", INCOME


def _item_price(t: str, d: str) -> tuple[str, int]:
    if "tax" in d:
        return "settled_tax", INCOME
    if "refund" in t or "chargeback" in t:
        return "settled_refunds", COST
    if "shipping" in d:
        return "settled_shipping", INCOME
    return "settled_product_sales", INCOME


def _item_fee(d: str) -> tuple[str, int]:
    if "commission" in d or "closingfee" in d:
        return "referral_fees", COST
    if "shippingchargeback" in d or "shippinghb" in d:
        return "shipping_fees", COST
    if "fba" in d or "fulfil" in d or "pickpack" in d or "weightbased" in d:
        return "fulfillment_fees", COST
    return "other_fees", COST


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a V2 settlement flat file into per-day, per-SKU settlement measures.

    Two passes over the file (summary rows first); each a chunk of rows at a time, converted a
    column at a time (_Lines). A row any of whose cells the conversion cannot vouch for is
    read per row through Record, so its error names its line and column as before.
    """
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY, opts.currency, rolls_up=True)
    out.adopt(sheet)
    summaries: dict[str, _Summary] = {}
    for chunk in chunks(sheet.rows):  # first pass: the summary rows
        for pos, kind in enumerate(_kinds(chunk, sheet)):
            if kind is None:
                _first_pass_row(out, Record(*chunk[pos], sheet, opts.currency), summaries)
    any_rows = False
    for chunk in chunks(sheet.rows):  # second pass (the file read again): the amount lines
        lines = _Lines(chunk, sheet, opts)
        for pos, kind in enumerate(_kinds(chunk, sheet)):
            rec = Record(*chunk[pos], sheet, opts.currency) if kind is None else None
            any_rows = any_rows or kind == "line" or not _is_total(rec)
            if kind == "line" and lines.put(pos, out, summaries):
                continue
            if kind == "line" or not (_is_total(rec) or _is_summary(rec)):
                rec = rec or Record(*chunk[pos], sheet, opts.currency)
                with out.row(rec.line) as row:
                    _add_line(row, rec, summaries, opts)
    _reconcile(out, summaries, sheet.header_line, any_rows)
    out.roll_up()
    return out.result()


def _first_pass_row(out: Collector, rec, summaries: dict) -> None:
    if _is_total(rec):
        out.skip("total")
    elif _is_summary(rec):
        with out.row(rec.line):
            summaries[_settlement_id(rec)] = _summary(rec)


def _kinds(chunk: list, sheet) -> list:
    """Per row: 'line' for an amount line with a plain settlement id (never a total or summary
    row), else None: the row is told apart the careful way (total, summary or odd line)."""
    ids = convert_column(chunk, sheet.colmap.get("settlement_id"), _read_settlement_id)
    totals = convert_column(chunk, sheet.colmap.get("total"), _filled)
    types = convert_column(chunk, sheet.colmap.get("amount_type"), _filled)
    return ["line" if sid is not ASIDE and not (total and not kind) else None
            for sid, total, kind in zip(ids, totals, types)]


def _read_settlement_id(cell):
    text = read_text(cell)
    return text if text is not ASIDE and _SETTLEMENT_ID.match(text) else ASIDE


def _filled(cell) -> bool:
    """str(rec.raw(...) or "").strip() is not empty."""
    return bool(str((cell.strip() if type(cell) is str else cell) or "").strip())


class _Lines:
    """One chunk's amount lines converted a column at a time: each distinct cell read once."""

    def __init__(self, chunk: list, sheet, opts: Options):
        def column(name, read):
            return convert_column(chunk, sheet.colmap.get(name), read)

        self.chunk = chunk
        self.ids = column("settlement_id", _read_settlement_id)
        self.amounts = column("amount", amount_reader(opts.currency))
        self.classes = [_classify(*texts) for texts in zip(
            column("tx", read_text), column("amount_type", read_text), column("description", read_text))]
        self.times = column("posted_time", _timestamp_reader(opts.tz))
        self.dates = column("posted_date", _date_or_blank)
        self.skus = column("sku", read_text)

    def put(self, pos: int, out: Collector, summaries: dict) -> bool:
        """Put the line's fact when every cell it needs was read; False to read it per row."""
        sid, amount, sku = self.ids[pos], self.amounts[pos], self.skus[pos]
        measure, sign = self.classes[pos]
        summary = summaries.get(sid)
        day = self._day(pos, summary)
        if ASIDE in (amount, sku, measure, day) or amount is None:
            return False
        try:
            fact = make_fact(self.chunk[pos][0], day, measure, sign * amount.value,
                             summary.currency if summary else None, out.currency_hint, sku, sid)
        except CellError:
            return False
        if summary is not None:
            summary.lines_sum += amount.value
        out.put_row([fact])
        return True

    def _day(self, pos: int, summary):
        """_posted_day's choice: posted time, else posted date, else the settlement's end."""
        for value in (self.times[pos], self.dates[pos]):
            if value != "":
                return value
        return summary.end if summary is not None and summary.end is not None else ASIDE


def _classify(tx, amount_type, description) -> tuple:
    if ASIDE in (tx, amount_type, description):
        return ASIDE, 0
    return _classified(tx, amount_type, description)


@lru_cache(maxsize=4096)
def _classified(tx: str, amount_type: str, description: str) -> tuple[str, int]:
    return classify(tx, amount_type, description)


def _timestamp_reader(tz: str | None):
    def read(cell):
        text = read_text(cell)
        if text is ASIDE or not text:
            return text
        return local_date(parse_timestamp(cell.strip()), tz)
    return read


def _date_or_blank(cell):
    text = read_text(cell)
    if text is ASIDE or not text:
        return text
    return parse_date(cell.strip())


def _is_total(rec) -> bool:
    sid = str(rec.raw("settlement_id") or "")
    return is_total_row(rec, "settlement_id") and not _SETTLEMENT_ID.match(sid)


def _is_summary(rec) -> bool:
    return bool(str(rec.raw("total") or "").strip()) and not str(rec.raw("amount_type") or "").strip()


def _settlement_id(rec) -> str:
    sid = rec.text("settlement_id")
    if not _SETTLEMENT_ID.match(sid):
        raise CellError("bad_key", "Not a settlement id: %s" % (sid[:40] or "(empty)"),
                        rec.label("settlement_id"))
    return sid


def _summary(rec) -> _Summary:
    _settlement_id(rec)
    currency = rec.currency("currency")
    end = local_date(rec.timestamp("end"), None) if rec.text("end") else None
    return _Summary(rec.line, rec.number("total"), currency, end)


def _add_line(row, rec, summaries: dict[str, _Summary], opts: Options) -> None:
    sid = _settlement_id(rec)
    summary = summaries.get(sid)
    amount = rec.number("amount")
    if amount is None:
        raise CellError("missing_value", "The amount is empty.", rec.label("amount"))
    measure, sign = classify(rec.text("tx"), rec.text("amount_type"), rec.text("description"))
    day = _posted_day(rec, summary, opts)
    row.add(day, measure, sign * amount, summary.currency if summary else None,
            sku=rec.text("sku"), ref=sid)
    if summary is not None:
        summary.lines_sum += amount


def _posted_day(rec, summary: _Summary | None, opts: Options) -> date:
    if rec.text("posted_time"):
        return local_date(rec.timestamp("posted_time"), opts.tz)
    if rec.text("posted_date"):
        return rec.date("posted_date")
    if summary is not None and summary.end is not None:
        return summary.end  # e.g. reserve lines carry no posted date
    raise CellError("bad_date", "No posted date on this line.", rec.label("posted_date"))


def _reconcile(out: Collector, summaries: dict[str, _Summary], header_line: int, any_rows: bool) -> None:
    if not summaries and any_rows:
        out.error(header_line + 1, None, "missing_summary",
                  "No settlement summary row (total-amount); the file may be incomplete.")
    for sid, s in summaries.items():
        if s.lines_sum != s.total:
            out.error(s.line, "total-amount", "settlement_unbalanced",
                      "Settlement %s: the amounts add up to %s but total-amount is %s."
                      % (sid, s.lines_sum, s.total))
