"""The Account Health parser (GET_V2_SELLER_PERFORMANCE_REPORT) on the schema's own example
(amzn/selling-partner-api-models accountHealthReport-2020-11-18.json), and the metrics over it."""
import json
from datetime import date
from decimal import Decimal as D

from kpiapp.metrics.catalog import BUILTIN_METRICS_BY_KEY
from kpiapp.metrics.formula import parse_formula
from kpiapp.parsers import detect, parse_file
from kpiapp.parsers.measures import BASE_MEASURES

WINDOW_60 = {"reportingDateFrom": "2020-09-06T00:00Z", "reportingDateTo": "2020-11-04T23:59Z"}
WINDOW_30 = {"reportingDateFrom": "2020-10-11T00:00Z", "reportingDateTo": "2020-11-09T23:59Z"}


def odr(orders, defects):
    return {"reportingDateRange": WINDOW_60, "orderCount": orders,
            "orderWithDefects": {"count": defects, "status": "GOOD"}, "claims": {"count": 442, "status": "NONE"},
            "chargebacks": {"count": 15, "status": "NONE"}, "negativeFeedback": {"count": 628, "status": "NONE"},
            "fulfillmentType": "mfn", "status": "GOOD", "rate": 0.009, "targetValue": 0.01,
            "targetCondition": "LESS_THAN"}


def report(**metric):
    entry = {
        "marketplaceId": "ATVPDKIKX0DER",
        "lateShipmentRate": {"reportingDateRange": {"reportingDateFrom": "2020-10-21T00:00Z",
                                                    "reportingDateTo": "2020-11-19T23:59Z"},
                             "orderCount": 870669, "lateShipmentCount": 27896, "status": "GOOD",
                             "rate": 0.03203973037, "targetValue": 0.04, "targetCondition": "LESS_THAN"},
        "validTrackingRate": {"reportingDateRange": WINDOW_30, "shipmentCount": 878443,
                              "validTrackingCount": 836462, "status": "GOOD", "rate": 0.9522,
                              "targetValue": 0.95, "targetCondition": "GREATER_THAN"},
        "orderDefectRate": {"mfn": odr(539000, 1078), "afn": odr(120000, 240)},
        "accountHealthRating": {"ahrStatus": "WARNED", "reportingDateRange": WINDOW_60},
    }
    entry.update(metric)
    return json.dumps({"accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "AT_RISK"}],
                       "performanceMetrics": [entry]}).encode()


def facts_of(data, **opts):
    result = parse_file(data, "health.json", parser="amazon_account_health", **opts)
    return {(f.business_date, f.measure, f.ref): f.value for f in result.facts}, result


def test_the_windows_counts_become_one_days_snapshot():
    facts, result = facts_of(report(), date_from=date(2020, 11, 20), date_to=date(2020, 11, 20))
    day = date(2020, 11, 20)
    assert not result.errors and result.family == "amazon_account_health"
    assert facts == {
        (day, "health_lsr_orders", "ATVPDKIKX0DER"): D(870669),
        (day, "health_lsr_late", "ATVPDKIKX0DER"): D(27896),
        (day, "health_vtr_shipments", "ATVPDKIKX0DER"): D(878443),
        (day, "health_vtr_valid", "ATVPDKIKX0DER"): D(836462),
        (day, "health_odr_orders", "ATVPDKIKX0DER:mfn"): D(539000),
        (day, "health_odr_defects", "ATVPDKIKX0DER:mfn"): D(1078),
        (day, "health_odr_orders", "ATVPDKIKX0DER:afn"): D(120000),
        (day, "health_odr_defects", "ATVPDKIKX0DER:afn"): D(240),
    }


def test_without_a_date_the_snapshot_is_the_latest_window_end_and_missing_channels_add_nothing():
    facts, _ = facts_of(report(orderDefectRate={"afn": odr(10, 1)}))
    assert {day for day, _m, _r in facts} == {date(2020, 11, 19)}
    assert not any(ref.endswith(":mfn") for _d, _m, ref in facts)


def test_a_metric_without_its_count_is_a_row_error():
    broken = report(validTrackingRate={"reportingDateRange": WINDOW_30, "shipmentCount": 5})
    facts, result = facts_of(broken, date_from=date(2020, 11, 20))
    assert facts == {} and [e.code for e in result.errors] == ["missing_value"]
    assert "validTrackingCount" in result.errors[0].column


def test_the_report_is_detected_and_its_measures_and_metrics_exist():
    assert detect(report(), "report.json") == "amazon_account_health"
    for key in ("order_defect_rate", "late_shipment_rate", "valid_tracking_rate"):
        spec = BUILTIN_METRICS_BY_KEY[key]
        assert spec.includes_zh and spec.unit == "fraction"
        parse_formula(spec.formula, set(BASE_MEASURES))
    odr_rate = parse_formula(BUILTIN_METRICS_BY_KEY["order_defect_rate"].formula, set(BASE_MEASURES))
    # two daily snapshots: the period's ODR weights each day by its order count
    value = odr_rate.evaluate({"health_odr_defects": D(10 + 30), "health_odr_orders": D(1000 + 3000)})
    assert value == D("0.01")
