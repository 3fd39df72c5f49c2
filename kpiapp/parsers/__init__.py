"""Pure parsers for marketplace reports: bytes in, normalized facts out.

A parser never imports the database, a model or Flask (STYLE.md). The import
service calls detect()/parse_file() and decides what to do with row errors.
"""

from __future__ import annotations

from datetime import date

from kpiapp.parsers import (amazon_account_health, amazon_ads, amazon_business_report, amazon_inventory,
                            amazon_orders, amazon_sales_traffic_json, amazon_settlement, generic,
                            lazada_finance, lazada_orders, shopee_ads, shopee_escrow, shopee_orders,
                            tiktok_orders)
from kpiapp.parsers.base import (Fact, FxRate, Options, ParseError, ParseResult, ParserInfo,
                                 ParseWarning, RowError)
from kpiapp.parsers.common import (container_kind, cycle_collector_paused, decoding_once, gunzip_if_needed,
                                   latest_day, load_json, refuse_future, spilling_to, table_heads, zone_info)
from kpiapp.parsers.fx import parse_fx as _parse_fx

__all__ = ["PARSERS", "Fact", "FxRate", "ParseError", "ParseResult", "ParseWarning", "ParserInfo", "RowError",
           "detect", "generic_template_csv", "parse_file", "parse_fx"]


def _info(module, label_en: str, label_zh: str, needs_date_range: bool = False) -> ParserInfo:
    return ParserInfo(module.KEY, module.FAMILY, label_en, label_zh, needs_date_range, module.parse)


PARSERS: dict[str, ParserInfo] = {
    info.key: info for info in (
        _info(amazon_business_report, "Amazon Business Report (by child item, CSV)",
              "亚马逊业务报告（子商品，CSV）", needs_date_range=True),
        _info(amazon_sales_traffic_json, "Amazon SP-API Sales and Traffic report (JSON)",
              "亚马逊 SP-API 销售与流量报告（JSON）"),
        _info(amazon_settlement, "Amazon settlement report V2 (flat file)", "亚马逊结算报告 V2（文本文件）"),
        _info(amazon_orders, "Amazon all-orders report (flat file)", "亚马逊所有订单报告（文本文件）"),
        _info(amazon_inventory, "Amazon FBA inventory, unsuppressed (flat file)",
              "亚马逊 FBA 库存报告（文本文件）", needs_date_range=True),
        _info(amazon_ads, "Amazon Ads Sponsored Products report (API JSON, CSV or XLSX)",
              "亚马逊广告商品推广报告（API JSON、CSV 或 XLSX）"),
        _info(amazon_account_health, "Amazon Account Health report (SP-API JSON)",
              "亚马逊账户状况报告（SP-API JSON）"),
        _info(shopee_orders, "Shopee orders (Seller Centre export or API JSON)",
              "Shopee 订单（卖家中心导出或 API JSON）"),
        _info(shopee_escrow, "Shopee escrow details (API JSON)", "Shopee 结算明细（API JSON）",
              needs_date_range=True),
        _info(shopee_ads, "Shopee Ads daily performance (API JSON)", "Shopee 广告每日表现（API JSON）"),
        _info(tiktok_orders, "TikTok Shop orders (Seller Center export or API JSON)",
              "TikTok Shop 订单（卖家中心导出或 API JSON）"),
        _info(lazada_orders, "Lazada orders (Seller Center export or API JSON)",
              "Lazada 订单（卖家中心导出或 API JSON）"),
        _info(lazada_finance, "Lazada finance transactions (API JSON)", "Lazada 财务交易明细（API JSON）"),
        _info(generic, "Generic template (date, store, sku, measure, value, currency)",
              "通用模板（日期、店铺、SKU、指标、数值、币种）"),
    )
}

# Most specific headers first: e.g. settlement files also have 'sku' and 'currency'.
_TABLE_DETECTORS = (
    (amazon_settlement.KEY, amazon_settlement.COLUMNS),
    (amazon_orders.KEY, amazon_orders.COLUMNS),
    (amazon_inventory.KEY, amazon_inventory.COLUMNS),
    (amazon_business_report.KEY, amazon_business_report.COLUMNS),
    (amazon_ads.KEY, amazon_ads.COLUMNS),
    (tiktok_orders.KEY, tiktok_orders.COLUMNS),
    (lazada_orders.KEY, lazada_orders.COLUMNS),
    (shopee_orders.KEY, shopee_orders.COLUMNS),
    (generic.KEY, generic.COLUMNS),
)
_JSON_DETECTORS = (
    (amazon_sales_traffic_json.KEY, amazon_sales_traffic_json.matches),
    (amazon_ads.KEY, amazon_ads.matches),
    (amazon_account_health.KEY, amazon_account_health.matches),
    (shopee_escrow.KEY, shopee_escrow.matches),
    (shopee_ads.KEY, shopee_ads.matches),
    (shopee_orders.KEY, shopee_orders.matches),
    (tiktok_orders.KEY, tiktok_orders.matches),
    (lazada_orders.KEY, lazada_orders.matches),
    (lazada_finance.KEY, lazada_finance.matches),
)


def detect(data: bytes, filename: str) -> str:
    """The parser key for a file, from its headers or JSON structure.

    Raises ParseError('unknown_format') listing the formats we know.
    """
    data, filename = gunzip_if_needed(data, filename)
    if container_kind(data, filename) == "json":
        doc = load_json(data)
        for key, test in _JSON_DETECTORS:
            if test(doc):
                return key
    else:
        heads = table_heads(data, filename)
        for key, columns in _TABLE_DETECTORS:
            if any(columns.match(cells) is not None for head in heads for _, cells in head):
                return key
    labels = [info.label_en for info in PARSERS.values()]
    raise ParseError("unknown_format",
                     "This file is not a format we know. Known formats: %s." % "; ".join(labels),
                     formats=list(PARSERS))


def parse_file(data: bytes, filename: str, *, parser: str | None = None, date_from: date | None = None,
               date_to: date | None = None, tz: str | None = None,
               currency: str | None = None, sink=None) -> ParseResult:
    """Parse one uploaded file (detecting its format unless parser is given).

    tz: IANA zone of the store, used to turn UTC/offset timestamps (orders,
    settlements, API Unix times) into business dates; without it they use UTC.
    currency: the store currency, used where the file names none.
    sink: where the facts go once they are many (common.spilling_to); the result is then
    `staged`, holds no facts, and the caller applies refuse_future's rule to the sink.
    """
    data, filename = gunzip_if_needed(data, filename)
    # detect() and the parser share one decoding of the file
    with decoding_once(), spilling_to(sink), cycle_collector_paused():
        return _parse(data, filename, parser, date_from, date_to, tz, currency)


def _parse(data, filename, parser, date_from, date_to, tz, currency) -> ParseResult:
    key = parser or detect(data, filename)
    if key not in PARSERS:
        raise ParseError("unknown_parser", "Unknown parser: %s" % key, parser=key)
    if date_from and date_to and date_to < date_from:
        raise ParseError("bad_date_range", "The end date is before the start date.")
    if tz:
        zone_info(tz)
    if currency and not (len(currency) == 3 and currency.isalpha()):
        raise ParseError("bad_currency", "Not an ISO currency code: %s" % currency[:10])
    opts = Options(filename, date_from, date_to, tz, currency.upper() if currency else None)
    return refuse_future(PARSERS[key].parse(data, opts), latest_day(tz))


def parse_fx(data: bytes, filename: str) -> tuple[list[FxRate], list[RowError]]:
    """FX rates from a CSV/XLSX with columns date,currency,rate."""
    data, filename = gunzip_if_needed(data, filename)
    return _parse_fx(data, filename)


def generic_template_csv() -> str:
    """The documented generic template (header + 2 example rows) for download."""
    return generic.template_csv()
