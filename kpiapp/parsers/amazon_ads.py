"""Amazon Ads Sponsored Products: Reporting API v3 JSON and console CSV/XLSX. §4.

ref = campaign id (API) or campaign name (console, which has no id); sku = the
advertised SKU (or ASIN) for advertised-product reports, else "" (campaign total).
Ratio columns (ACoS, ROAS, CTR, CPC, CVR) are never imported. Attributed sales,
orders and units use the report's 7-day window when present, else 14-day (SB/SD).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import repeat

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.base import Fact
from kpiapp.parsers.common import (ASIDE, FIRST, NO_CELL, SECOND, CellError, Collector, Columns, Record,
                                   amount_reader, as_dict, check_currency, chunks, column_currency,
                                   container_kind, convert_column, date_reader, is_total_row, load_json,
                                   parse_date, read_sheet, read_text, records, row_facts, sheet_currency,
                                   to_decimal)
from kpiapp.parsers.measures import BASE_MEASURES, NON_NEGATIVE

KEY = "amazon_ads"
FAMILY = "amazon_ads"
WINDOWS = ("7", "14", "30", "1")

# measure -> API field prefix; the window suffix ('7d') is appended.
_API_ATTRIBUTED = {
    "ad_sales": "sales", "ad_orders": "purchases", "ad_units": "unitsSoldClicks",
    "ad_sales_same_sku": "attributedSalesSameSku", "ad_units_same_sku": "unitsSoldSameSku",
}
_API_PLAIN = {"ad_impressions": ("impressions",), "ad_clicks": ("clicks",), "ad_spend": ("cost", "spend")}

COLUMNS = Columns(
    aliases={
        "date": ("Date", "日期", "日付"),
        "start": ("Start Date", "开始日期", "開始日"),
        "end": ("End Date", "结束日期", "終了日"),
        "campaign": ("Campaign Name", "广告活动名称", "广告活动", "キャンペーン名"),
        "campaign_id": ("Campaign ID", "Campaign Id", "广告活动编号"),
        "currency": ("Currency", "货币"),
        "impressions": ("Impressions", "展示量", "曝光量", "インプレッション"),
        "clicks": ("Clicks", "点击量", "点击次数", "クリック"),
        "spend": ("Spend", "Cost", "花费", "支出", "費用"),
        "ad_sales_7": ("7 Day Total Sales", "7天总销售额", "広告がクリックされてから7日間の総売上高"),
        "ad_sales_14": ("14 Day Total Sales", "14天总销售额"),
        "ad_orders_7": ("7 Day Total Orders (#)", "7天总订单数(#)", "7天总订单数",
                        "広告がクリックされてから7日間の合計注文数"),
        "ad_orders_14": ("14 Day Total Orders (#)", "14天总订单数(#)", "14天总订单数"),
        "ad_units_7": ("7 Day Total Units (#)", "7天总销售量(#)", "7天总销售量",
                       "広告がクリックされてから7日間の合計販売数"),
        "ad_units_14": ("14 Day Total Units (#)", "14天总销售量(#)", "14天总销售量"),
        "ad_sales_same_sku_7": ("7 Day Advertised SKU Sales", "7天广告SKU销售额"),
        "ad_sales_same_sku_14": ("14 Day Advertised SKU Sales", "14天广告SKU销售额"),
        "ad_units_same_sku_7": ("7 Day Advertised SKU Units (#)", "7天广告SKU销售量(#)"),
        "ad_units_same_sku_14": ("14 Day Advertised SKU Units (#)", "14天广告SKU销售量(#)"),
        "advertised_sku": ("Advertised SKU", "广告SKU"),
        "advertised_asin": ("Advertised ASIN", "广告ASIN"),
    },
    required=(("campaign", "campaign_id"), "impressions", "clicks", "spend", ("date", "start")),
    # Ratios are recomputed from the raw columns; descriptive columns carry no measure.
    ignored=("Portfolio name", "Program Type", "Retailer", "Country", "Status", "Budget Amount",
             "Targeting Type", "Bidding strategy", "Last Year Impressions", "Last Year Clicks",
             "Click-Thru Rate (CTR)", "Last Year Spend", "Cost Per Click (CPC)",
             "Last Year Cost Per Click (CPC)", "Total Advertising Cost of Sales (ACOS)",
             "Total Return on Advertising Spend (ROAS)", "Ad Group Name", "Targeting", "Match Type",
             "Customer Search Term", "7 Day Conversion Rate", "14 Day Conversion Rate",
             "7 Day Other SKU Units (#)", "14 Day Other SKU Units (#)", "7 Day Other SKU Sales",
             "14 Day Other SKU Sales", "Top-of-search Impression Share",
             "广告组合名称", "广告类型", "状态", "预算", "广告组名称", "投放", "匹配类型", "客户搜索词",
             "点击率(CTR)", "单次点击成本(CPC)", "广告投入产出比(ACOS)总计", "总广告投资回报率(ROAS)",
             "7天的转化率", "クリックスルー率(CTR)", "平均クリック単価(CPC)", "広告費売上高比率(ACOS)合計",
             "広告費用対効果(ROAS)合計", "カスタマーの検索キーワード", "ターゲティング", "マッチタイプ"),
    expected=((("ad_sales_7", "ad_sales_14"), "ad_sales"), (("ad_orders_7", "ad_orders_14"), "ad_orders")),
)
_MONEY_MEASURES = ("ad_spend", "ad_sales", "ad_sales_same_sku")
_UNITS = {key: measure.unit for key, measure in BASE_MEASURES.items()}
_ZERO = Decimal(0)


def matches(obj) -> bool:
    """True for a Reporting API v3 Sponsored Products report (a JSON array of rows)."""
    first = obj[0] if isinstance(obj, list) and obj else None
    return (isinstance(first, dict) and ("campaignId" in first or "campaignName" in first)
            and any(k in first for k in ("impressions", "clicks", "cost", "spend")))


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse an Ads report (API JSON, gzip already removed, or console CSV/XLSX)."""
    if container_kind(data, opts.filename) == "json":
        return _parse_api(load_json(data), opts)
    return _parse_console(data, opts)


def _parse_api(doc, opts: Options) -> ParseResult:
    if not isinstance(doc, list):
        raise ParseError("wrong_format", "This JSON is not an Amazon Ads report (expected an array).")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, item in enumerate(doc, start=1):
        item = as_dict(item)
        with out.row(i) as row:
            day = parse_date(item.get("date") or item.get("startDate"), "date")
            summary = item.get("endDate") and not item.get("date")
            end = parse_date(item["endDate"], "endDate") if summary else None
            ref = str(item.get("campaignId") or item.get("campaignName") or "").strip()
            if not ref:
                raise CellError("missing_value", "No campaignId or campaignName.", "campaignId")
            code = item.get("campaignBudgetCurrencyCode")
            currency = check_currency(code, "campaignBudgetCurrencyCode") if code else None
            key = dict(sku=str(item.get("advertisedSku") or item.get("advertisedAsin") or "").strip(),
                       ref=ref, period_end=end if end != day else None)
            for measure, value in _api_metrics(item):
                row.add(day, measure, value, currency if measure in _MONEY_MEASURES else None, **key)
    return out.result()


def _api_metrics(item: dict):
    for measure, fields in _API_PLAIN.items():
        field = next((f for f in fields if item.get(f) is not None), None)
        if field:
            yield measure, to_decimal(item[field], field)
    window = next((w for w in WINDOWS if "sales%sd" % w in item or "purchases%sd" % w in item), None)
    for measure, prefix in _API_ATTRIBUTED.items():
        field = "%s%sd" % (prefix, window)
        if window and item.get(field) is not None:
            yield measure, to_decimal(item[field], field)


def _parse_console(data: bytes, opts: Options) -> ParseResult:
    """Console rows a chunk at a time, a column at a time (_Columns); a row with any cell the
    conversion cannot vouch for (blank name, bad number, negative count...) is read per row."""
    sheet = read_sheet(data, opts.filename, COLUMNS)
    window = "7" if any(k.endswith("_7") for k in sheet.colmap) else "14"
    named = column_currency(records(sheet, opts.currency), "currency")
    money_cols = ("spend", "ad_sales_" + window, "ad_sales_same_sku_" + window)
    out = Collector(KEY, FAMILY, named or sheet_currency(sheet, money_cols, opts.currency), row_keys=True)
    out.adopt(sheet)
    measures = _measures(sheet, window)
    for chunk in chunks(sheet.rows):
        columns = _Columns(chunk, sheet, measures, opts.currency)
        for (line, cells), facts in zip(chunk, columns.facts(chunk, out.currency_hint)):
            if facts is None:
                _read_row(out, Record(line, cells, sheet, opts.currency), window)
            else:
                out.put_row(facts)
    return out.result()


def _measures(sheet, window: str) -> list[tuple[str, str]]:
    """(measure, column) pairs of this file, in the order a row adds its facts."""
    pairs = [("ad_impressions", "impressions"), ("ad_clicks", "clicks"), ("ad_spend", "spend")]
    for measure in ("ad_sales", "ad_orders", "ad_units", "ad_sales_same_sku", "ad_units_same_sku"):
        if "%s_%s" % (measure, window) in sheet.colmap:
            pairs.append((measure, "%s_%s" % (measure, window)))
    return pairs


class _Columns:
    """One chunk converted a column at a time: each distinct cell read once by the careful logic,
    and a measure's own checks (a blank is 0, a count is not negative) once per distinct cell."""

    def __init__(self, chunk: list, sheet, measures: list, hint: str | None):
        def column(name, read):
            return convert_column(chunk, sheet.colmap.get(name), read)

        self.kinds = [(measure, measure in _MONEY_MEASURES, _UNITS[measure] == "money")
                      for measure, _ in measures]
        self.values = [column(name, _value_reader(measure, hint)) for measure, name in measures]
        self.ids, self.names = column("campaign_id", read_text), column("campaign", read_text)
        self.skus, self.asins = column("advertised_sku", read_text), column("advertised_asin", read_text)
        self.currencies = column("currency", _read_currency)
        dated = "date" in sheet.colmap
        self.days = column("date" if dated else "start", date_reader(serial=True))
        self.ends = [None] * len(chunk) if dated else column("end", _read_end)

    def facts(self, chunk: list, hint: str | None) -> list[tuple[Fact, ...] | None]:
        """Per row of the chunk: its facts (as make_fact builds them, built a measure at a time by
        row_facts), or None when any of its cells needs the careful path."""
        refs, skus = _either(self.ids, self.names), _either(self.skus, self.asins)
        careful = set(_aside_rows(refs, skus, self.days, self.ends, self.currencies))
        careful.update(_blank_rows(refs))
        measures = []
        for (measure, takes_row_currency, money), column in zip(self.kinds, self.values):
            if ASIDE in column:
                careful.update(_aside_rows(column))
                column = [NO_CELL if pair is ASIDE else pair for pair in column]
            codes = _codes(self.currencies, column, takes_row_currency, hint) if money else repeat(None)
            if money:
                careful.update(_blank_rows(codes))  # missing_currency: the careful path names the column
            measures.append((measure, map(FIRST, column), codes))
        ends = _period_ends(self.days, self.ends)
        rows = list(row_facts(list(map(FIRST, chunk)), measures, self.days, ends, skus, refs))
        for index in careful:
            rows[index] = None
        return rows



def _either(first: list, second: list) -> list:
    """[a or b for a, b in zip(first, second)], at once when first is all blank or all filled."""
    if not any(first):
        return second
    if all(first):
        return first
    return [a or b for a, b in zip(first, second)]


def _aside_rows(*columns):
    """The rows where any of the columns holds ASIDE."""
    for column in columns:
        if ASIDE in column:
            yield from (index for index, value in enumerate(column) if value is ASIDE)


def _blank_rows(column) -> list:
    return [] if all(column) else [index for index, value in enumerate(column) if not value]


def _codes(currencies: list, column: list, takes_row_currency: bool, hint: str | None) -> list:
    """Each row's currency for a money measure: the row's currency column, else the cell's
    symbol, else hint (the row's currency column only where takes_row_currency); worked out once
    per distinct pair."""
    if not takes_row_currency:
        return [hint] * len(column)
    pairs = list(zip(currencies, map(SECOND, column)))
    codes = {pair: pair[0] or pair[1] or hint for pair in dict.fromkeys(pairs)}
    return list(map(codes.__getitem__, pairs))


def _period_ends(days: list, ends: list):
    """Each row's period end: its end date unless blank or its start date."""
    if not any(ends):
        return repeat(None)
    return [end if end != day else None for day, end in zip(days, ends)]


def _value_reader(measure: str, hint: str | None):
    """One cell of a measure's column as (value, its currency symbol's code), for convert_column:
    a blank is 0 and a negative count ASIDE, as make_fact would refuse it."""
    read = amount_reader(hint)
    non_negative = measure in NON_NEGATIVE

    def value(cell):
        amount = read(cell)
        if amount is None:
            return _ZERO, None
        if non_negative and amount.value < 0:
            return ASIDE
        return amount.value, amount.currency
    return value


def _read_currency(cell):
    """Record.currency of one cell: None when blank."""
    text = read_text(cell)
    if text is ASIDE or not text:
        return text or None
    return check_currency(text)


def _read_end(cell):
    """The end date, None when blank (as _console_row reads it)."""
    if cell is None or (type(cell) is str and not cell.strip()):
        return None
    return date_reader(serial=True)(cell)


def _read_row(out: Collector, rec: Record, window: str) -> None:
    """One row the careful way: every cell checked, a bad cell a row error naming its column."""
    name = str(rec.raw("campaign_id") or rec.raw("campaign") or "").strip()
    undated = not str(rec.raw("date") or rec.raw("start") or "").strip()
    if not name and (undated or is_total_row(rec, "campaign")):
        out.skip("total")  # the console's footer: sums without campaign or date
        return
    with out.row(rec.line) as row:
        if not name:
            raise CellError("bad_key", "The campaign name is empty.", rec.label("campaign"))
        _console_row(row, rec, rec.text("campaign_id") or rec.text("campaign"), window)


def _console_row(row, rec, ref: str, window: str) -> None:
    if rec.has("date"):
        day, end = rec.date("date", serial=True), None
    else:
        day = rec.date("start", serial=True)
        end = rec.date("end", serial=True) if rec.has("end") and rec.raw("end") not in (None, "") else None
    currency = rec.currency("currency")
    key = dict(sku=rec.text("advertised_sku") or rec.text("advertised_asin"), ref=ref,
               period_end=end if end != day else None)
    row.add(day, "ad_impressions", rec.number("impressions"), **key)
    row.add(day, "ad_clicks", rec.number("clicks"), **key)
    value, symbol = rec.money("spend")
    row.add(day, "ad_spend", value, currency or symbol, **key)
    for measure in ("ad_sales", "ad_orders", "ad_units", "ad_sales_same_sku", "ad_units_same_sku"):
        column = "%s_%s" % (measure, window)
        if rec.has(column):
            value, symbol = rec.money(column)
            row.add(day, measure, value, (currency or symbol) if measure in _MONEY_MEASURES else None, **key)
