"""SP-API GET_SALES_AND_TRAFFIC_REPORT (JSON). DATA-FORMATS §2.

salesAndTrafficByDate -> store-level facts (sku="") per date (a week or month for
WEEK/MONTH granularity, with period_end). salesAndTrafficByAsin -> per child ASIN
over dataStartTime..dataEndTime, the same keys as the Business Report CSV.
Percentages are 0-100 here.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (CellError, Collector, as_dict, as_list, check_currency, date_range,
                                   json_document, parse_date, to_decimal)

KEY = "amazon_sales_traffic_json"
FAMILY = "amazon_sales_traffic"

_SALES = {
    "orderedProductSales": "ordered_sales", "orderedProductSalesB2B": "ordered_sales_b2b",
    "unitsOrdered": "units_ordered", "unitsOrderedB2B": "units_ordered_b2b",
    "totalOrderItems": "order_items", "totalOrderItemsB2B": "order_items_b2b",
}
_SALES_BY_DATE = {
    **_SALES,
    "shippedProductSales": "shipped_sales", "unitsShipped": "units_shipped",
    "ordersShipped": "orders_shipped", "unitsRefunded": "units_refunded",
    "claimsGranted": "claims_granted", "claimsAmount": "claims_amount",
}
_TRAFFIC = {"sessions": "sessions", "sessionsB2B": "sessions_b2b", "pageViews": "page_views",
            "pageViewsB2B": "page_views_b2b"}
_TRAFFIC_BY_DATE = {**_TRAFFIC, "feedbackReceived": "feedback_orders",
                    "negativeFeedbackReceived": "negative_feedback_orders"}


def matches(obj) -> bool:
    """True for a Sales and Traffic report document."""
    return isinstance(obj, dict) and ("salesAndTrafficByDate" in obj or "salesAndTrafficByAsin" in obj)


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse a Sales and Traffic JSON report into daily store and per-ASIN facts."""
    doc = json_document(data, opts.filename)
    if not matches(doc):
        raise ParseError("wrong_format", "This JSON is not a Sales and Traffic report.")
    spec = as_dict(doc.get("reportSpecification"))
    granularity = str(as_dict(spec.get("reportOptions")).get("dateGranularity") or "DAY").upper()
    out = Collector(KEY, FAMILY, opts.currency)
    for i, entry in enumerate(as_list(doc.get("salesAndTrafficByDate")), start=1):
        entry = as_dict(entry)
        path = "salesAndTrafficByDate[%d]" % (i - 1)
        with out.row(i) as row:
            day = parse_date(entry.get("date"), path + ".date")
            end = _period_end(day, granularity)
            _add(row, as_dict(entry.get("salesByDate")), _SALES_BY_DATE, day, end, "", path + ".salesByDate")
            _add(row, as_dict(entry.get("trafficByDate")), _TRAFFIC_BY_DATE, day, end, "",
                 path + ".trafficByDate")
    asin_rows = as_list(doc.get("salesAndTrafficByAsin"))
    if asin_rows:
        start, end = _asin_range(spec, opts)
        for i, entry in enumerate(asin_rows, start=1):
            entry = as_dict(entry)
            path = "salesAndTrafficByAsin[%d]" % (i - 1)
            sku = str(entry.get("childAsin") or entry.get("parentAsin") or "").strip()
            with out.row(i) as row:
                if not sku:
                    raise CellError("missing_value", "No ASIN in this entry.", path)
                _add(row, as_dict(entry.get("salesByAsin")), _SALES, start, end, sku, path + ".salesByAsin")
                _add(row, as_dict(entry.get("trafficByAsin")), _TRAFFIC, start, end, sku,
                     path + ".trafficByAsin")
    return out.result()


def _add(row, section: dict, mapping: dict, day: date, end: date | None, sku: str, path: str) -> None:
    for field, measure in mapping.items():
        if field not in section:
            continue
        value, currency = _value(section[field], "%s.%s" % (path, field))
        row.add(day, measure, value, currency, sku=sku, period_end=end)
    if section.get("buyBoxPercentage") is not None and section.get("pageViews") is not None:
        share = to_decimal(section["buyBoxPercentage"], path + ".buyBoxPercentage") / 100
        views = to_decimal(section["pageViews"], path + ".pageViews")
        row.add(day, "featured_offer_page_views", views * share, sku=sku, period_end=end)


def _value(raw, column: str):
    if isinstance(raw, dict):  # Amount {"amount": 1.0, "currencyCode": "USD"}
        currency = check_currency(raw.get("currencyCode"), column) if raw.get("currencyCode") else None
        return to_decimal(raw.get("amount"), column), currency
    return to_decimal(raw, column), None


def _period_end(day: date, granularity: str) -> date | None:
    if granularity == "WEEK":
        return day + timedelta(days=6)
    if granularity == "MONTH":
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return None


def _asin_range(spec: dict, opts: Options) -> tuple[date, date | None]:
    if not spec.get("dataStartTime"):
        return date_range(opts)
    try:
        start = parse_date(spec.get("dataStartTime"))
        end = parse_date(spec.get("dataEndTime") or spec.get("dataStartTime"))
    except CellError as exc:
        raise ParseError("bad_date", "reportSpecification has an unreadable date range.") from exc
    if end < start:
        raise ParseError("bad_date_range", "dataEndTime is before dataStartTime.")
    return start, (end if end != start else None)
