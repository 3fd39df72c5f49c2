"""Seller Central Business Report, 'Detail Page Sales and Traffic By Child Item' (CSV).

DATA-FORMATS §1. No date column: the caller passes date_from/date_to. One fact set
per child ASIN (sku = child ASIN, so the CSV and the SP-API JSON share keys).
"""

from __future__ import annotations

import re
from itertools import repeat

from kpiapp.parsers.base import Options, ParseResult
from kpiapp.parsers.common import (FIRST, NO_CELL, SECOND, CellError, Collector, Columns, Record, chunks,
                                   column_cells, date_range, is_total_row, plain_column, read_sheet,
                                   row_facts, sheet_currency)
from kpiapp.parsers.measures import NON_NEGATIVE

KEY = "amazon_business_report"
FAMILY = "amazon_sales_traffic"

COLUMNS = Columns(
    aliases={
        "child_asin": ("(Child) ASIN", "(子)ASIN", "（子）ASIN", "(Untergeordnete) ASIN"),
        "sessions": ("Sessions - Total", "Sessions", "会话数 - 总计", "会话 - 总计", "买家访问次数",
                     "セッション数 - 合計", "セッション - 合計", "Sitzungen - Gesamt", "Sitzungen - Summe"),
        "sessions_b2b": ("Sessions - Total - B2B", "会话数 - 总计 - B2B", "会话 - 总计 - B2B",
                         "セッション数 - 合計 - B2B", "セッション - 合計 - B2B", "Sitzungen - Gesamt - B2B"),
        "page_views": ("Page Views - Total", "Page Views", "页面浏览量 - 总计", "页面浏览次数",
                       "ページビュー - 合計", "Seitenaufrufe - Gesamt", "Seitenaufrufe - Summe"),
        "page_views_b2b": ("Page Views - Total - B2B", "页面浏览量 - 总计 - B2B", "ページビュー - 合計 - B2B",
                           "Seitenaufrufe - Gesamt - B2B", "Seitenaufrufe - Summe - B2B"),
        "buy_box": ("Featured Offer (Buy Box) Percentage", "Buy Box Percentage",
                    "推荐报价(推荐报价展示位)百分比", "カートボックス獲得率", "Einkaufswagen-Prozentsatz",
                    "Prozentsatz Einkaufswagen"),
        "units_ordered": ("Units Ordered", "已订购商品数量", "注文された商品点数", "Bestellte Einheiten"),
        "units_ordered_b2b": ("Units Ordered - B2B", "已订购商品数量 - B2B", "注文された商品点数 - B2B",
                              "Bestellte Einheiten - B2B"),
        "ordered_sales": ("Ordered Product Sales", "Gross Product Sales", "已订购商品销售额",
                          "注文商品の売上額", "注文商品売上", "Bestellte Produkte - Umsätze",
                          "Umsätze - Bestellte Artikel", "Durch bestellte Produkte erzielter Umsatz"),
        "ordered_sales_b2b": ("Ordered Product Sales - B2B", "已订购商品销售额 - B2B",
                              "注文商品の売上額 - B2B", "注文商品売上 - B2B",
                              "Bestellte Produkte - Umsätze - B2B", "Bestellsumme - B2B"),
        "order_items": ("Total Order Items", "Orders Placed", "订单商品总数", "注文品目総数",
                        "Zahl der Bestellposten", "Gesamtzahl an Bestellposten", "Bestellposten gesamt"),
        "order_items_b2b": ("Total Order Items - B2B", "订单商品总数 - B2B", "注文品目総数 - B2B",
                            "Zahl der Bestellposten - B2B"),
    },
    required=("child_asin", ("sessions", "page_views", "units_ordered", "ordered_sales")),
    # Read through other columns: parent ASIN, title, SKU, the mobile/browser split and ratios.
    ignored=("(Parent) ASIN", "Title", "SKU", "Sessions - Mobile App", "Sessions - Mobile App - B2B",
             "Sessions - Browser", "Sessions - Browser - B2B", "Session Percentage",
             "Session Percentage - Mobile App", "Session Percentage - Mobile App - B2B",
             "Session Percentage - Browser", "Session Percentage - Browser - B2B",
             "Session Percentage - Total", "Session Percentage - Total - B2B",
             "Page Views - Mobile App", "Page Views - Mobile App - B2B", "Page Views - Browser",
             "Page Views - Browser - B2B", "Page Views Percentage", "Page Views Percentage - Mobile App",
             "Page Views Percentage - Mobile App - B2B", "Page Views Percentage - Browser",
             "Page Views Percentage - Browser - B2B", "Page Views Percentage - Total",
             "Page Views Percentage - Total - B2B", "Featured Offer (Buy Box) Percentage - B2B",
             "Unit Session Percentage", "Unit Session Percentage - B2B",
             "(父)ASIN", "标题", "转化率 - 总计", "商品会话百分比", "订单商品数量转化率",
             "(親)ASIN", "タイトル", "セッションのパーセンテージ - 注文商品点数", "Titel",
             "(Übergeordnete) ASIN"),
    expected=(("sessions", "sessions"), ("page_views", "page_views"), ("units_ordered", "units_ordered"),
              ("ordered_sales", "ordered_sales"), ("order_items", "order_items")),
)

_COUNTS = ("sessions", "sessions_b2b", "page_views", "page_views_b2b", "units_ordered",
           "units_ordered_b2b", "order_items", "order_items_b2b")
_MONEY = ("ordered_sales", "ordered_sales_b2b")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a Business Report CSV into per-child-ASIN facts for opts' date range.

    A chunk of rows is converted a column at a time by the number fast path, each column's
    checks (non-negative counts, money with a currency) once per distinct cell, and its facts
    built a measure at a time; a row with any cell the fast path cannot vouch for (blank, odd
    shape, negative, bad ASIN) is read per row.
    """
    day, period_end = date_range(opts)
    sheet = read_sheet(data, opts.filename, COLUMNS)
    out = Collector(KEY, FAMILY, sheet_currency(sheet, _MONEY, opts.currency), row_keys=True)
    out.adopt(sheet)
    names = [n for n in _COUNTS + _MONEY if n in sheet.colmap]
    shared = "buy_box" in sheet.colmap and "page_views" in sheet.colmap
    for chunk in chunks(sheet.rows):
        asins = _asin_column(chunk, sheet.colmap["child_asin"])
        columns = [plain_column(chunk, sheet.colmap[n], opts.currency, _vouch(n, out.currency_hint))
                   for n in names]
        if shared:
            columns.append(plain_column(chunk, sheet.colmap["buy_box"], opts.currency, _share(sheet.kind)))
        whole = list(map(all, zip(asins, *columns)))  # an ASIN and every cell vouched for
        rows = _facts(chunk, whole, (day, period_end), names, asins, columns)
        for (line, cells), row_whole, facts in zip(chunk, whole, rows):
            if row_whole:
                out.put_row(facts)
            else:
                _read_row(out, Record(line, cells, sheet, opts.currency), day, period_end)
    return out.result()


def _facts(chunk: list, whole: list, dates: tuple, names: list, asins: list, columns: list):
    """Each row's facts as the column path makes them, built a measure at a time (row_facts);
    a row not whole gets facts of placeholders, which are never kept."""
    if not all(whole):
        columns = [[pair or NO_CELL for pair in column] for column in columns]
    measures = [(name, map(FIRST, column), map(SECOND, column)) for name, column in zip(names, columns)]
    if len(columns) > len(names):  # as _read_row: page views times the featured-offer share
        views = columns[names.index("page_views")]
        featured = [(v or 0) * s for (v, _), (s, _) in zip(views, columns[-1])]
        measures.append(("featured_offer_page_views", featured, repeat(None)))
    day, period_end = dates
    return row_facts(list(map(FIRST, chunk)), measures, repeat(day), repeat(period_end), asins, repeat(""))



def _asin_column(chunk: list, index: int) -> list:
    """Each row's child ASIN when it is a plain one, else None (the row is read the careful way).

    A column of plain ASINs is checked at once, in C: ten ASCII letters or digits each."""
    cells = column_cells(chunk, index)
    if set(map(type, cells)) == {str}:
        asins = list(map(str.upper, map(str.strip, cells)))
        joined = "".join(asins)
        if set(map(len, asins)) == {10} and joined.isascii() and joined.isalnum():
            return asins
    out = []
    for cell in cells:
        asin = cell.strip().upper() if type(cell) is str else ""
        out.append(asin if _ASIN.match(asin) else None)
    return out


def _share(kind: str):
    """The buy-box share of a fast-path Amount, as Record.percent reads it, as (share, None);
    None (the careful path) when negative, since a negative share makes a negative page-view count."""
    def share(amount):
        value = amount.value / 100 if amount.percent or kind == "csv" else amount.value
        return (value, None) if value >= 0 else None
    return share


def _vouch(name: str, hint: str | None):
    """A fast-path Amount of column name as (value, currency) for a Fact, or None when the row
    must be read the careful way (a negative count; money without a currency)."""
    if name in _MONEY:
        def money(amount):
            currency = amount.currency or hint
            return (amount.value, currency) if currency else None
        return money
    if name in NON_NEGATIVE:
        return lambda amount: (amount.value, None) if amount.value >= 0 else None
    return lambda amount: (amount.value, None)


def _read_row(out: Collector, rec: Record, day, period_end) -> None:
    """One row the careful way: every cell checked, a bad cell a row error naming its column."""
    asin = str(rec.raw("child_asin") or "").strip().upper()
    if not _ASIN.match(asin) and is_total_row(rec, "child_asin"):
        out.skip("total")
        return
    with out.row(rec.line) as row:
        if not _ASIN.match(asin):
            raise CellError("bad_key", "Not a child ASIN (10 letters or digits): %s"
                            % (asin[:40] or "(empty)"), rec.label("child_asin"))
        for name in _COUNTS:
            if rec.has(name):
                row.add(day, name, rec.number(name), sku=asin, period_end=period_end)
        for name in _MONEY:
            if rec.has(name):
                value, currency = rec.money(name)
                row.add(day, name, value, currency, sku=asin, period_end=period_end)
        if rec.has("buy_box") and rec.has("page_views"):
            share = rec.percent("buy_box")
            if share is not None:
                views = rec.number("page_views") or 0
                row.add(day, "featured_offer_page_views", views * share, sku=asin,
                        period_end=period_end)
