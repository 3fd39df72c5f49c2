"""The store dashboard (docs/dashboards.md "Store"): figures from summed measures, FX per day,
"no data" never 0, the owners' targets and shares, who may see a store, queries that do not
grow with the store, and the page in both languages."""
import itertools
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from kpiapp.dashboards import stores
from kpiapp.dashboards.fact_sums import FactSums
from kpiapp.dashboards.filters import Filters
from kpiapp.extensions import db
from kpiapp.metrics.services import compute_metric
from kpiapp.models import FxRate, ImportRecord, MetricFact, StoreOwner
from tests.appraisal.factories import metric_item
from tests.factories import ClientUserFactory, StoreFactory, UserFactory
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback

_records = itertools.count(1)
MONEY = ("ordered_sales", "ad_spend", "ad_sales")


def record_for(shop):
    n = next(_records)
    record = ImportRecord(filename=f"store-{n}.csv", sha256=f"{n:064d}", size=1, dedupe_key=f"store-dash-{n}",
                          store_id=shop.id, status="committed")
    db.session.add(record)
    db.session.flush()
    return record


def add_facts(shop, day, currency=None, family="amazon_orders", last=None, sku="", **measures):
    record = record_for(shop)
    for measure, value in measures.items():
        db.session.add(MetricFact(store_id=shop.id, family=family, business_date=day, period_end=last or day,
                                  sku=sku, ref="", measure=measure, value=Decimal(value),
                                  currency=currency if measure in MONEY else None,
                                  import_id=record.id))


def rate(day, currency, value):
    db.session.add(FxRate(date=day, currency=currency, rate=Decimal(value)))


@pytest.fixture
def shops(team):
    """Store A (EUR) owned 60/40 by people[0] and people[1]; store B (USD) by people[0] alone.
    people[0]'s GMV item is measured on A alone at 60 %; people[1]'s on A at 40 % and B."""
    a = StoreFactory(code="AMZ-DE", currency="EUR", marketplace="DE")
    b = StoreFactory(code="AMZ-US", currency="USD")
    db.session.add_all([StoreOwner(store=a, person=team.people[0], share_pct=60),
                        StoreOwner(store=a, person=team.people[1], share_pct=40),
                        StoreOwner(store=b, person=team.people[0], share_pct=100)])
    metric_item(team.card(team.people[0])).scope = [{"store_id": a.id, "share_pct": "60"}]
    metric_item(team.card(team.people[1])).scope = [{"store_id": a.id, "share_pct": "40"},
                                                    {"store_id": b.id, "share_pct": "100"}]
    add_facts(a, date(2026, 10, 5), "EUR", ordered_sales="100", units_ordered="4", sessions="40")
    add_facts(a, date(2026, 10, 6), "EUR", ordered_sales="200", units_ordered="6", sessions="20")
    add_facts(a, date(2026, 10, 12), "EUR", ordered_sales="50", units_ordered="1", sessions="10")
    add_facts(b, date(2026, 10, 7), "USD", ordered_sales="1000", units_ordered="9", sessions="99")
    rate(date(2026, 10, 5), "EUR", "1.10")
    rate(date(2026, 10, 6), "EUR", "1.20")
    rate(date(2026, 10, 12), "EUR", "1.00")
    db.session.commit()
    return a, b


def page_of(shop, team, viewer=None, period=None):
    cycle = team.cycle
    first, last = period or (cycle.period_start, cycle.period_end)
    return stores.store_page(shop, cycle, (first, last), viewer or team.hr, "en", LABELS, "USD")


LABELS = {key: key for key in stores.LABEL_KEYS}


def panel(page, key):
    return next(p for p in page.panels if p.key == key)


def summary(page):
    return {row["key"]: row["period"] for row in panel(page, "summary").rows}


def test_figures_come_from_summed_measures_in_the_base_currency_at_each_days_rate(app, team, shops):
    a, _b = shops
    figures = summary(page_of(a, team))
    assert figures["gmv"] == Decimal("400")  # 100 × 1.10 + 200 × 1.20 + 50 × 1.00
    assert figures["units"] == Decimal("11") and figures["sessions"] == Decimal("70")
    assert figures["cvr"] == Decimal(11) / Decimal(70)  # not (0.1 + 0.3 + 0.1) / 3
    assert figures["acos"] is None  # no ad facts: no data, not 0
    # as compute_metric: with sales but no ad spend, TACoS has no value (not 0) and the table says why
    tacos = next(row for row in panel(page_of(a, team), "summary").rows if row["key"] == "tacos")
    assert (tacos["period"], tacos["missing"]) == (None, "Ad spend")


def test_weekly_buckets_over_a_quarter_and_daily_over_a_month(app, team, shops):
    a, _b = shops
    sales = panel(page_of(a, team), "sales")
    assert sales.rows[:3] == [{"bucket": "2026-10-01 – 2026-10-04", "gmv": None},
                              {"bucket": "2026-10-05 – 2026-10-11", "gmv": Decimal("350")},
                              {"bucket": "2026-10-12 – 2026-10-18", "gmv": Decimal("50")}]
    assert len(sales.rows) == 14 and sales.rows[-1]["bucket"] == "2026-12-28 – 2026-12-31"
    traffic = panel(page_of(a, team, period=(date(2026, 10, 1), date(2026, 10, 31))), "traffic")
    assert len(traffic.rows) == 31
    assert traffic.rows[4] == {"bucket": "2026-10-05", "units": Decimal("4"), "sessions": Decimal("40")}
    rates = panel(page_of(a, team), "rates")
    assert rates.rows[1]["cvr"] == Decimal(10) / Decimal(60) and rates.rows[2]["cvr"] == Decimal("0.1")
    assert stores.grain(date(2026, 1, 1), date(2026, 12, 31)) == "month"


def test_the_cycle_figure_equals_compute_metric_to_the_cent(app, team, shops):
    """SKU rows under a total, a monthly report over daily orders, ads in another currency."""
    a, _b = shops
    first, last = team.cycle.period_start, team.cycle.period_end
    add_facts(a, date(2026, 10, 5), "EUR", sku="B01", ordered_sales="77.77")  # under the total: dropped
    add_facts(a, date(2026, 10, 7), "EUR", sku="B02", ordered_sales="12.34")  # no total that day: counts
    add_facts(a, date(2026, 11, 1), "EUR", family="amazon_sales_traffic", last=date(2026, 11, 30),
              ordered_sales="5432.10", units_ordered="120", sessions="1500")
    add_facts(a, date(2026, 11, 3), "EUR", ordered_sales="999.99", units_ordered="50")  # covered: dropped
    add_facts(a, date(2026, 11, 4), "EUR", family="amazon_ads", ad_spend="33.33", ad_sales="111.11")
    for day, value in ((date(2026, 10, 7), "1.15"), (date(2026, 11, 1), "1.0873"),
                       (date(2026, 11, 3), "1.08"), (date(2026, 11, 4), "1.0912")):
        rate(day, "EUR", value)
    db.session.commit()
    figures = summary(page_of(a, team))
    for key in stores.METRICS:
        assert figures[key] == compute_metric(key, [(a.id, Decimal(1))], first, last).value, key
    gmv = Decimal("400") + Decimal("12.34") * Decimal("1.15") + Decimal("5432.10") * Decimal("1.0873")
    assert figures["gmv"].quantize(Decimal("0.01")) == gmv.quantize(Decimal("0.01"))
    assert figures["acos"] == Decimal("33.33") / Decimal("111.11")


def test_a_day_without_a_rate_makes_money_figures_no_data_and_is_named(app, team, shops):
    a, _b = shops
    add_facts(a, date(2026, 10, 20), "EUR", ordered_sales="30", units_ordered="2", sessions="5")
    db.session.commit()
    page = page_of(a, team)
    figures = summary(page)
    assert figures["gmv"] is None and figures["units"] == Decimal("13")
    assert page.missing_rates == [("EUR", date(2026, 10, 20))]
    weeks = panel(page, "sales").rows
    assert weeks[2]["gmv"] == Decimal("50") and weeks[3]["gmv"] is None


def list_rows(team, period):
    panel, shown, _next = stores.store_list(team.hr, Filters(), period, None, "en", LABELS, "USD")
    return {shop.id: row for shop, row in zip(shown, panel.rows)}


@pytest.mark.parametrize("monthly", [False, True], ids=["sql", "monthly report: python path"])
def test_the_list_figures_equal_compute_metric(app, team, shops, monthly, monkeypatch):
    """The list's headline figures (summed by the database) equal compute_metric's for each
    store and period: SKU rows under a total, ads in EUR, a store in GBP with a day without a
    rate (its money figures: no data), a store without facts. One family per store and
    measure: one GROUP BY; a monthly report beside daily orders (two families): the families
    are picked by fact_sums.FactSums, on its Python path."""
    picked = []
    monkeypatch.setattr(stores, "FactSums", lambda *args: picked.append(args) or FactSums(*args))
    a, b = shops
    uk, empty = StoreFactory(code="AMZ-UK", currency="GBP"), StoreFactory(code="AMZ-XX")
    add_facts(a, date(2026, 10, 5), "EUR", sku="B01", ordered_sales="77.77")  # under the total: dropped
    add_facts(a, date(2026, 10, 7), "EUR", sku="B02", ordered_sales="12.34")  # no total that day: counts
    add_facts(a, date(2026, 10, 9), "EUR", family="amazon_ads", ad_spend="33.33", ad_sales="111.11")
    add_facts(a, date(2026, 10, 9), "EUR", ordered_sales="10", units_ordered="1", sessions="3")
    add_facts(b, date(2026, 10, 8), family="amazon_ads", ad_spend="12.5", ad_sales="40")
    add_facts(uk, date(2026, 10, 5), "GBP", ordered_sales="70.5", units_ordered="3", sessions="31")
    add_facts(uk, date(2026, 10, 6), "GBP", ordered_sales="20", units_ordered="1", sessions="9")
    for day, currency, value in ((date(2026, 10, 7), "EUR", "1.15"), (date(2026, 10, 9), "EUR", "1.0912"),
                                 (date(2026, 10, 5), "GBP", "1.27")):
        rate(day, currency, value)
    if monthly:
        add_facts(a, date(2026, 10, 1), "EUR", family="amazon_sales_traffic", last=date(2026, 10, 31),
                  ordered_sales="5432.10", units_ordered="120", sessions="1500")
        rate(date(2026, 10, 1), "EUR", "1.0873")
    db.session.commit()
    places = Decimal("0.000001")  # SQLite sums in binary floating point (docs/dashboards.md)
    periods = ((team.cycle.period_start, team.cycle.period_end), (date(2026, 10, 6), date(2026, 10, 31)))
    for first, last in periods:
        rows = list_rows(team, (first, last))
        for shop in (a, b, uk, empty):
            for key in stores.HEADLINE:
                value = compute_metric(key, [(shop.id, Decimal(1))], first, last).value
                found = rows[shop.id][key]
                same = found is None and value is None or found.quantize(places) == value.quantize(places)
                assert same, (shop.code, key, first, found, value)
    assert len(picked) == (1 if monthly else 0)  # the cycle; from Oct 6 the monthly report is outside
    assert rows[uk.id]["gmv"] is None and rows[uk.id]["units"] == Decimal("1")
    assert rows[b.id]["acos"] == Decimal("0.3125") and rows[empty.id]["gmv"] is None


def test_owners_with_their_shares_targets_and_the_implied_store_target(app, team, shops):
    a, _b = shops
    rows = panel(page_of(a, team, viewer=team.manager), "owners").rows
    first, second = rows
    assert (first["owner"], first["share"], first["target"]) == (team.people[0].name, Decimal("0.6"),
                                                                  Decimal("100000"))
    assert first["implied"] == Decimal("100000") / Decimal("0.6")  # 166,666.67 for the store
    assert first["store_actual"] == Decimal("400")
    assert (second["owner"], second["share"]) == (team.people[1].name, Decimal("0.4"))
    assert second["implied"] is None  # measured on two stores: no honest store-level figure
    # an owner sees their own target, and only the share of a co-owner
    mine = panel(page_of(a, team, viewer=team.people[0]), "owners").rows
    assert mine[0]["target"] == Decimal("100000")
    assert mine[1] == {"owner": team.people[1].name, "share": Decimal("0.4"), "metric": None, "unit": None}


def test_implied_target_of_a_ratio_is_the_target_itself(app, team, shops):
    a, _b = shops
    item = metric_item(team.card(team.people[0]))
    item.metric_key, item.target = "cvr", Decimal("0.12")
    db.session.commit()
    row = panel(page_of(a, team), "owners").rows[0]
    assert row["implied"] == Decimal("0.12") and row["store_actual"] == Decimal(11) / Decimal(70)


@pytest.mark.parametrize("who, status", [("owner", 200), ("manager", 200), ("boss", 200), ("hr", 200),
                                         ("other", 404), ("client", 403)])
def test_who_may_open_a_store(app, team, shops, browser, who, status):
    a, _b = shops
    user = {"owner": team.people[0], "manager": team.manager, "boss": team.boss, "hr": team.hr,
            "other": team.people[2], "client": ClientUserFactory()}[who]
    assert browser(user).get(f"/dashboards/stores/{a.id}").status_code == status


def test_the_list_shows_only_visible_stores_with_their_latest_data(app, team, shops, browser):
    a, b = shops
    html = browser(team.people[1]).page("/dashboards/stores")
    assert f"/dashboards/stores/{a.id}" in html and f"/dashboards/stores/{b.id}" not in html
    assert "2026-10-12" in html and "400.00" in html
    hr = browser(team.hr).page("/dashboards/stores")
    assert f"/dashboards/stores/{b.id}" in hr and "1,000.00" in hr
    assert "Store dashboard" not in browser(team.people[2]).page("/dashboards/")
    assert "Store dashboard" in browser(team.people[1]).page("/dashboards/")


def test_the_list_heads_each_row_with_its_store_code_on_one_line(app, team, shops, browser):
    """At 390 px the store dashboard's list broke AMZ-DE at its hyphen (app.css: th.code)."""
    html = browser(team.hr).page("/dashboards/stores")
    codes = re.findall(r'<th scope="row" class="code"><a [^>]*>([^<]+)</a>', html)
    assert "AMZ-DE" in codes and "AMZ-US" in codes


def test_the_list_pages_by_store_code(app, team, browser, monkeypatch):
    monkeypatch.setattr(stores, "PAGE_SIZE", 2)
    for n in range(5):
        StoreFactory(code=f"PG-{n}")
    db.session.commit()
    path, seen = "/dashboards/stores", []
    while path:
        html = browser(team.hr).page(path)
        seen.append(re.findall(r'/dashboards/stores/\d+[^"]*">(PG-\d)</a>', html))
        found = re.search(r'<a href="([^"]*after=[^"]*)" rel="next"', html)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [["PG-0", "PG-1"], ["PG-2", "PG-3"], ["PG-4"]]


def test_a_panel_downloads_as_csv(app, team, shops, browser):
    a, _b = shops
    response = browser(team.hr).get(f"/dashboards/stores/{a.id}?download=sales&format=csv")
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Period,GMV (ordered sales)" and lines[1] == "2026-10-01 – 2026-10-04,"
    bucket, gmv = lines[2].split(",")
    assert bucket == "2026-10-05 – 2026-10-11" and Decimal(gmv) == Decimal("350")


def test_the_page_in_chinese_and_english(app, team, shops, browser):
    a, _b = shops
    team.hr.locale = "zh_CN"
    db.session.commit()
    zh = browser(team.hr).page(f"/dashboards/stores/{a.id}")
    assert "店铺评分" in zh and "负责人及其目标" in zh and "销售额 GMV" in zh
    assert "Owners and their targets" not in zh
    en = browser(team.manager).page(f"/dashboards/stores/{a.id}")
    assert "Owners and their targets" in en and "166,666.67" in en
    fragment = browser(team.manager).get(f"/dashboards/stores/{a.id}?period=2026-10", htmx=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "2026-10-31" in body and "2026-11-01" not in body  # a month: by day


def grow(shop, owners, days):
    for _ in range(owners):
        db.session.add(StoreOwner(store=shop, person=UserFactory(), share_pct=1))
    for n in range(days):
        add_facts(shop, date(2026, 10, 1) + timedelta(days=n % 92), "EUR", sku=f"S{n}", ordered_sales="1",
                  units_ordered="1", sessions="3")
    db.session.commit()


def count(client, path):
    client.get(path)  # warm: first-request caches are not the page's cost
    with QueryCounter(db.engines[None]) as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_queries_do_not_grow_with_owners_or_fact_days_or_stores(app, team, login):
    small = StoreFactory()
    grow(small, 20, 20)
    client = login(team.hr)
    before = (count(client, f"/dashboards/stores/{small.id}"), count(client, "/dashboards/stores"))
    large = StoreFactory()
    grow(large, 200, 200)
    for _ in range(60):
        grow(StoreFactory(), 1, 2)
    after = (count(client, f"/dashboards/stores/{large.id}"), count(client, "/dashboards/stores"))
    assert after == before


def test_the_pages_pass_every_label_the_panels_use(app):
    from kpiapp.dashboards.routes.stores import labels

    with app.test_request_context("/"):
        assert set(labels()) == set(stores.LABEL_KEYS)


def test_the_pages_read_the_day_sums_not_the_facts(app, team, shops, browser):
    """Figures and latest dates come from fact_day (pre-summed by day: at 10M facts summing
    metric_fact took a second, docs/scaling.md); the figures are those of the facts (above)."""
    a, _b = shops
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        html = browser(team.hr).page("/dashboards/stores")
        browser(team.hr).page(f"/dashboards/stores/{a.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert "2026-10-12" in html and "1,000.00" in html
    assert any(re.search(r"\bfact_day\b", s) for s in statements)
    assert not [s for s in statements if re.search(r"\bmetric_fact\b", s)]
