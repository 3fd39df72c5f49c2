"""Shopee Ads: Open API ads/get_all_cpc_ads_daily_performance JSON (shop-level CPC ads per day).

Rows {date "DD-MM-YYYY", impression, clicks, expense, broad_order, broad_gmv, broad_item_sold,
direct_gmv, direct_item_sold, ...}; ratios (ctr, roas, conversions) are not read, they are
recomputed from the counts. 口径: ad_sales / ad_orders / ad_units are Shopee's "broad"
conversions (7 days after the click, any item of the shop: what Seller Centre calls
Conversions); the "direct" ones (the advertised item itself) are ad_sales_same_sku and
ad_units_same_sku. Store-level facts (sku "", ref "").
"""

from __future__ import annotations

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import CellError, Collector, as_dict, json_document, parse_date, to_decimal

KEY = "shopee_ads"
FAMILY = "shopee_ads"
FIELDS = (("impression", "ad_impressions"), ("clicks", "ad_clicks"), ("expense", "ad_spend"),
          ("broad_order", "ad_orders"), ("broad_gmv", "ad_sales"), ("broad_item_sold", "ad_units"),
          ("direct_gmv", "ad_sales_same_sku"), ("direct_item_sold", "ad_units_same_sku"))
MONEY = ("expense", "broad_gmv", "direct_gmv")


def matches(obj) -> bool:
    rows = _rows(obj)
    return bool(rows) and all("expense" in r and "impression" in r and "date" in r for r in rows[:3])


def parse(data: bytes, opts: Options) -> ParseResult:
    doc = json_document(data, opts.filename)
    rows = _rows(doc)
    if not rows and not isinstance(as_dict(doc).get("response"), list):
        raise ParseError("wrong_format", "This JSON is not a Shopee ads daily performance response.")
    out = Collector(KEY, FAMILY, opts.currency)
    for i, row in enumerate(rows, start=1):
        with out.row(i) as scope:
            day = parse_date(row.get("date"), "date", ("%d-%m-%Y",))
            for field, measure in FIELDS:
                value = row.get(field)
                if value is None or value == "":
                    raise CellError("missing_value", "No %s." % field, field)
                scope.add(day, measure, to_decimal(value, field), None)
    return out.result()


def _rows(obj) -> list[dict]:
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, dict)]
    response = as_dict(obj).get("response")
    return [r for r in response if isinstance(r, dict)] if isinstance(response, list) else []
