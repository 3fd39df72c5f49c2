"""SP-API GET_V2_SELLER_PERFORMANCE_REPORT (Account Health, JSON). DATA-FORMATS §7.

Schema: amzn/selling-partner-api-models schemas/reports/accountHealthReport-2020-11-18.json.
Amazon reports each metric over a rolling window ending near the report date (ODR 60 days,
late shipment 30 days, valid tracking 30 days) with the raw counts beside the rate. We store
the counts of each window as a snapshot taken on one day (opts.date_from, the day the report
was pulled; else the latest window end), like the inventory snapshots: summed over a period
they give the average of the daily snapshot rates weighted by their counts, and a day pulled
twice replaces itself. The rate itself is never stored (recomputed from the counts).
ref = "<marketplaceId>" (":mfn" / ":afn" for the order defect rate, reported per channel).
"""

from __future__ import annotations

from datetime import date

from kpiapp.parsers.base import Options, ParseError, ParseResult
from kpiapp.parsers.common import (CellError, Collector, as_dict, as_list, json_document, parse_date,
                                   to_decimal)

KEY = "amazon_account_health"
FAMILY = "amazon_account_health"

# metric object -> ((field path, measure), ...)
_COUNTS = {
    "lateShipmentRate": (("orderCount", "health_lsr_orders"), ("lateShipmentCount", "health_lsr_late")),
    "validTrackingRate": (("shipmentCount", "health_vtr_shipments"),
                          ("validTrackingCount", "health_vtr_valid")),
}
_ODR = (("orderCount", "health_odr_orders"), ("orderWithDefects.count", "health_odr_defects"))


def matches(obj) -> bool:
    """True for an Account Health (seller performance) report document."""
    return isinstance(obj, dict) and isinstance(obj.get("performanceMetrics"), list)


def parse(data: bytes, opts: Options) -> ParseResult:
    """Parse the counts of ODR, late shipment and valid tracking as a snapshot of one day."""
    doc = json_document(data, opts.filename)
    if not matches(doc):
        raise ParseError("wrong_format", "This JSON is not an Account Health report.")
    entries = [as_dict(e) for e in as_list(doc.get("performanceMetrics"))]
    day = opts.date_from or _latest_end(entries)
    out = Collector(KEY, FAMILY)
    for i, entry in enumerate(entries, start=1):
        path = "performanceMetrics[%d]" % (i - 1)
        with out.row(i) as row:
            marketplace = str(entry.get("marketplaceId") or "").strip()
            if not marketplace:
                raise CellError("missing_value", "No marketplaceId in this entry.",
                                path + ".marketplaceId")
            for name, fields in _COUNTS.items():
                _add(row, day, as_dict(entry.get(name)), fields, marketplace, "%s.%s" % (path, name))
            for channel in ("mfn", "afn"):
                odr = as_dict(as_dict(entry.get("orderDefectRate")).get(channel))
                _add(row, day, odr, _ODR, "%s:%s" % (marketplace, channel),
                     "%s.orderDefectRate.%s" % (path, channel))
    return out.result()


def _add(row, day: date, metric: dict, fields, ref: str, path: str) -> None:
    """The metric's counts; a metric Amazon left out (e.g. no MFN orders) adds nothing."""
    if not metric:
        return
    for field, measure in fields:
        value = metric
        for part in field.split("."):  # "orderWithDefects.count"
            value = as_dict(value).get(part)
        if value is None:
            raise CellError("missing_value", "%s is missing." % field, "%s.%s" % (path, field))
        row.add(day, measure, to_decimal(value, "%s.%s" % (path, field)), ref=ref)


def _latest_end(entries: list[dict]) -> date:
    ends = []
    for entry in entries:
        for metric in entry.values():
            span = as_dict(as_dict(metric).get("reportingDateRange")) if isinstance(metric, dict) else {}
            if span.get("reportingDateTo"):
                ends.append(parse_date(str(span["reportingDateTo"])[:10]))
    if not ends:
        raise ParseError("date_range_required", "The report has no dates; choose the day it was taken.")
    return max(ends)
