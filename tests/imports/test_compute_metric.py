"""compute_metric: ratios from summed raw measures, shares, FX, no data."""
from datetime import date
from decimal import Decimal

import pytest

from kpiapp.imports.services import start_import
from kpiapp.metrics.services import compute_metric
from tests.imports.files import ads_report, business_report, fx_file, hr_user, orders_report, store

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

D1, D2, END = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 31)
O = "111-0000000-000000"  # an Amazon order id without its last digit


@pytest.fixture
def user(app):
    return hr_user()


def load(data, name, shop, user, **kwargs):
    record = start_import(data, name, shop.id if shop else None, user, **kwargs)
    assert record.status == "committed", (record.error, record.errors)
    return record


def test_acos_from_summed_spend_and_sales_across_stores_with_shares_and_fx(user):
    us, de = store(code="US-1"), store(code="DE-1", currency="EUR", marketplace="DE")
    load(ads_report([(D1, "A", 1000, 50, "10.00", "100.00"), (D2, "A", 1000, 50, "30.00", "50.00")]),
         "us.csv", us, user)
    load(ads_report([(D1, "B", 1000, 50, "20.00", "40.00")], currency="EUR"), "de.csv", de, user)
    load(fx_file([("2025-03-01", "EUR", "1.10")]), "fx.csv", None, user, kind="fx")
    value = compute_metric("acos", [(us.id, Decimal("1")), (de.id, Decimal("0.5"))], D1, END)
    # spend = 10 + 30 + 0.5 * 20 * 1.10 = 51; sales = 100 + 50 + 0.5 * 40 * 1.10 = 172
    assert value.inputs == {"ad_spend": Decimal("51"), "ad_sales": Decimal("172")}
    assert value.value == Decimal(51) / Decimal(172)  # not the mean of the daily ACoS values
    assert value.fact_count == 6 and value.data_as_of == D2 and len(value.import_ids) == 2
    assert value.fx_notes == ["EUR 2025-03-01 @ 1.1"] and value.missing_rates == []


def test_division_by_zero_is_no_data(user):
    us = store()
    load(ads_report([(D1, "A", 1000, 50, "10.00", "0")]), "us.csv", us, user)
    assert compute_metric("acos", [(us.id, 1)], D1, END).value is None
    assert compute_metric("ad_spend", [(us.id, 1)], D1, END).value == Decimal("10")


def test_no_facts_is_no_data(user):
    us = store()
    value = compute_metric("gmv", [(us.id, 1)], D1, END)
    assert value.value is None and value.fact_count == 0


def test_missing_fx_rate_names_currency_and_date(user):
    de = store(currency="EUR")
    load(ads_report([(D2, "B", 1000, 50, "20.00", "40.00")], currency="EUR"), "de.csv", de, user)
    value = compute_metric("acos", [(de.id, 1)], D1, END)
    assert value.value is None
    assert value.missing_rates == ["No FX rate for EUR on 2025-03-02."]


def test_business_report_wins_over_orders_for_the_same_day(user):
    us = store()
    load(business_report([("B0CHILD001", 100, 4, "$200.00")]), "br.csv", us, user, date_from=D1, date_to=D1)
    load(orders_report([(O + "1", "2025-03-01", "Shipped", "SKU1", 2, "40.00"),
                        (O + "2", "2025-03-02", "Shipped", "SKU1", 1, "20.00")]), "o.txt", us, user)
    value = compute_metric("gmv", [(us.id, 1)], D1, END)
    assert value.value == Decimal("220")  # Business Report on day 1, orders on day 2 only


def test_cvr_for_one_sku_and_partial_ranges_left_out(user):
    us = store()
    load(business_report([("B0CHILD001", 100, 4, "$200.00"), ("B0CHILD002", 300, 3, "$30.00")]), "br.csv",
         us, user, date_from=date(2025, 2, 25), date_to=D1)
    load(business_report([("B0CHILD001", 50, 5, "$250.00")]), "br2.csv", us, user, date_from=D2, date_to=D2)
    value = compute_metric("cvr", [(us.id, 1)], D1, END, sku="B0CHILD001")
    assert value.value == Decimal("0.1") and value.notes  # the Feb 25-Mar 1 range is left out


def test_a_range_report_covers_its_days_for_lower_priority_families(user):
    us = store()
    load(business_report([("B0CHILD001", 100, 4, "$200.00")]), "br.csv", us, user, date_from=D1, date_to=D2)
    load(orders_report([(O + "2", "2025-03-02", "Shipped", "SKU1", 1, "20.00"),
                        (O + "3", "2025-03-03", "Shipped", "SKU1", 1, "5.00")]), "o.txt", us, user)
    assert compute_metric("gmv", [(us.id, 1)], D1, END).value == Decimal("205")
