"""The company dashboard (docs/dashboards.md, "The company dashboard"): exact roll-ups on a
hand-built org (shared stores with shares, FX across dates, ACoS from summed measures, a
store and a month with no data as "—", never 0), the access matrix and public panels,
downloads, zh and en, and the same number of queries at 20 and 200 people."""
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import event, select, text

from kpiapp.appraisal import services as appraisal
from kpiapp.dashboards import company
from kpiapp.dashboards import filters as dashboard_filters
from kpiapp.dashboards import services as settings
from kpiapp.dashboards.filters import Filters
from kpiapp.dashboards.memo import memo
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, DashboardPublicPanel, FxRate, ImportRecord, MetricFact, Store
from kpiapp.web.kept_pages import page_memo
from tests.appraisal.factories import ORDER, make_team, metric_item, walk_to
from tests.factories import ClientUserFactory, DepartmentFactory, StoreFactory, StoreOwnerFactory, UserFactory
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback

TODAY = date(2026, 11, 30)
D = Decimal


class Org:
    pass


def add_import(store, hr, last_day):
    record = ImportRecord(filename=f"{store.code}.csv", sha256="0" * 64, size=1, dedupe_key=store.code,
                          store_id=store.id, status="committed", uploaded_by_id=hr.id, date_to=last_day)
    db.session.add(record)
    db.session.flush()
    return record


def fact(store, record, measure, value, day, family="amazon_sales_traffic", currency=None):
    db.session.add(MetricFact(store_id=store.id, family=family, business_date=day, period_end=day, sku="", ref="",
                              measure=measure, value=D(value), currency=currency, import_id=record.id))


@pytest.fixture
def org(app):
    """Two departments sharing AMZ-DE half and half; AMZ-US in USD, AMZ-DE in EUR at two
    rates, SHP-SG with no data; the team's cycle with GMV items at 0 (behind pace) and 110 points."""
    o = Org()
    o.team = team = make_team(size=3)
    o.amazon, o.ads = DepartmentFactory(name="Amazon team"), DepartmentFactory(name="Ads team")
    p1, idle = UserFactory(department=o.amazon), UserFactory(department=o.amazon)
    p2, p3 = UserFactory(department=o.ads), UserFactory(department=o.ads)
    UserFactory(department=o.ads, active=False)  # not a head
    o.us = StoreFactory(code="AMZ-US", currency="USD")
    o.de = StoreFactory(code="AMZ-DE", currency="EUR", marketplace="DE")
    o.sg = StoreFactory(code="SHP-SG", currency="SGD", platform="shopee", marketplace="SG")
    for store, person, share in ((o.us, p1, 100), (o.de, p1, 50), (o.de, p2, 50), (o.sg, p3, 100)):
        StoreOwnerFactory(store=store, person=person, share_pct=share)
    us, de = add_import(o.us, team.hr, date(2026, 11, 10)), add_import(o.de, team.hr, date(2026, 10, 12))
    fact(o.us, us, "ordered_sales", "1000", date(2026, 10, 5), currency="USD")
    fact(o.us, us, "ordered_sales", "400", date(2026, 11, 3), currency="USD")
    fact(o.us, us, "ordered_sales", "500", date(2026, 11, 10), currency="USD")
    fact(o.us, us, "units_ordered", "10", date(2026, 10, 5))
    fact(o.de, de, "ordered_sales", "100", date(2026, 10, 5), currency="EUR")  # x 1.10 = 110
    fact(o.de, de, "ordered_sales", "200", date(2026, 10, 12), currency="EUR")  # x 1.20 = 240
    for day, spend, sales in ((date(2026, 10, 5), "30", "120"), (date(2026, 10, 12), "10", "80")):
        fact(o.us, us, "ad_spend", spend, day, family="amazon_ads", currency="USD")
        fact(o.us, us, "ad_sales", sales, day, family="amazon_ads", currency="USD")
    db.session.add_all([FxRate(date=date(2026, 10, 5), currency="EUR", rate=D("1.10")),
                        FxRate(date=date(2026, 10, 12), currency="EUR", rate=D("1.20"))])
    cards = [team.card(person) for person in team.people]
    scopes = ([{"store_id": o.us.id, "share_pct": "100"}],
              [{"store_id": o.us.id, "share_pct": "100"}, {"store_id": o.de.id, "share_pct": "50"}], [])
    for card, actual, scope in zip(cards, ("30000", "110000", None), scopes):
        item = metric_item(card)
        item.scope = scope
        if actual:
            appraisal.set_actual(item, actual, date(2026, 11, 10), {"source": "test"})
    db.session.commit()
    return o


def panels(org, keys=company.PANELS, **filters):
    return cycle_panels(org.team.cycle, keys, **filters)


def cycle_panels(cycle, keys, **filters):
    with current_app.test_request_context():  # titles and labels are translated (English here)
        found = company.company_panels(Filters(cycle=cycle.id, **filters), cycle, keys, today=TODAY)
    return {p.key: p for p in found}


def by(panel, key):
    return {row[key]: row for row in panel.rows}


def test_department_attainment_averages_points_by_weight(org):
    rows = by(panels(org, ["departments"])["departments"], "department")
    team_department = org.team.people[0].department.name
    assert rows[team_department] == {"department": team_department, "people": 3, "with_data": 2,
                                     "attainment": D("55.00")}  # (0 x 60 + 110 x 60) / 120


def test_department_attainment_from_the_kept_card_sums_equals_the_items(org, monkeypatch):
    """PostgreSQL reads each card's live sums from scorecard_total (0039), kept by triggers; the
    items' own sums (the SQLite path) give the same rows, also after a raw UPDATE of
    computed_points alone (the triggers sum a card again on it)."""
    def both():
        found = {}
        for name in ("postgresql", "sqlite"):
            monkeypatch.setattr(company, "dialect", lambda name=name: name)
            found[name] = by(panels(org, ["departments"])["departments"], "department")
        return found["postgresql"], found["sqlite"]

    kept, items = both()
    assert kept == items
    team_department = org.team.people[0].department.name
    item = metric_item(org.team.card(org.team.people[2]))  # the third card's item had no points
    db.session.execute(db.update(type(item)).where(type(item).id == item.id).values(computed_points=D("80.00")))
    db.session.flush()
    kept, items = both()
    assert kept == items
    assert kept[team_department]["with_data"] == 3 and kept[team_department]["attainment"] == D("63.33")


ACOS_ITEM = [{"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": "100", "threshold": "0.30",
              "target": "0.20", "stretch": "0.15", "rule": {"kind": "linear", "cap": "120"}}]


def test_a_lower_is_better_metric_counts_through_its_reversed_points(app):
    team = make_team(size=2, items=ACOS_ITEM)
    for person, acos in zip(team.people, ("0.25", "0.15")):  # halfway to target: 50; at stretch: 120
        appraisal.set_actual(metric_item(team.card(person)), acos, date(2026, 11, 10), {"source": "test"})
    db.session.commit()
    rows = by(cycle_panels(team.cycle, ["departments"])["departments"], "department")
    assert rows[team.people[0].department.name]["attainment"] == D("85.00")


def test_store_figures_convert_each_day_and_recompute_acos_from_sums(org):
    rows = by(panels(org, ["stores"])["stores"], "store")
    assert (rows["AMZ-US"]["items"], rows["AMZ-US"]["attainment"]) == (2, D("55.00"))
    assert (rows["AMZ-DE"]["items"], rows["AMZ-DE"]["attainment"]) == (1, D("110.00"))
    # 30,000 by 11-10 (41 of 92 days) forecasts 67,317 < the 80,000 threshold; 110,000 is ahead
    assert (rows["AMZ-US"]["at_risk"], rows["AMZ-DE"]["at_risk"]) == (1, 0)
    assert rows["AMZ-US"]["gmv"] == D("1900") and rows["AMZ-DE"]["gmv"] == D("350.00")  # 100 x 1.10 + 200 x 1.20
    assert rows["AMZ-US"]["acos"] == D("0.2")  # (30 + 10) / (120 + 80), not the mean of 0.25 and 0.125
    assert list(rows) == ["AMZ-DE", "AMZ-US"]  # by attainment; SHP-SG has no item, so no attainment
    everything = all_stores(org)
    assert [row["store"] for row in everything.rows] == ["AMZ-DE", "AMZ-US", "SHP-SG"]  # by code
    assert everything.rows[:2] == [rows["AMZ-DE"], rows["AMZ-US"]]
    assert everything.rows[2] == {"store": "SHP-SG", "items": 0, "at_risk": 0, "attainment": None, "gmv": None,
                                  "acos": None}
    assert everything.cells("en")[2][1:] == ["0", "0", "—", "—", "—"]


def all_stores(org, after=None, limit=None, **filters):
    with current_app.test_request_context():
        panel, _next = company.all_stores(Filters(cycle=org.team.cycle.id, **filters), org.team.cycle, after, limit,
                                          today=TODAY)
    return panel


def test_per_head_follows_shares_and_counts_active_staff(org):
    found = panels(org, ["per_head_departments", "per_head_platforms"])
    rows = {(r["department"], r["month"]): r for r in found["per_head_departments"].rows}
    amazon_oct = rows[("Amazon team", "2026-10")]
    assert amazon_oct["heads"] == 2
    assert (amazon_oct["gmv"], amazon_oct["gmv_per_head"]) == (D("1175.00"), D("587.50"))  # 1000 + 350 / 2
    assert (amazon_oct["units_per_head"], amazon_oct["ad_sales_per_head"]) == (D("5.00"), D("100.00"))
    assert rows[("Amazon team", "2026-11")]["gmv_per_head"] == D("450.00")  # (400 + 500) / 2
    ads_oct, ads_nov = rows[("Ads team", "2026-10")], rows[("Ads team", "2026-11")]
    assert (ads_oct["heads"], ads_oct["gmv_per_head"]) == (2, D("87.50"))  # 350 / 2 / 2 heads (one inactive)
    assert ads_nov["gmv"] is None and ads_nov["gmv_per_head"] is None  # no data, not 0
    assert [r["month"] for r in found["per_head_departments"].rows if r["department"] == "Ads team"] == \
        ["2026-10", "2026-11"]  # up to today
    platforms = {(r["platform"], r["month"]): r for r in found["per_head_platforms"].rows}
    assert (platforms[("Amazon", "2026-10")]["heads"], platforms[("Amazon", "2026-10")]["gmv_per_head"]) == \
        (2, D("675.00"))
    assert platforms[("Shopee", "2026-10")]["gmv_per_head"] is None


def test_weekly_families_against_the_pro_rata_target(org):
    sales = panels(org, ["trend_sales"])["trend_sales"]
    rows = by(sales, "week")
    assert rows["2026-10-01"] == {"week": "2026-10-01", "actual": None, "target": D("13043.48")}  # 300,000 x 4 / 92
    assert rows["2026-10-05"]["actual"] == D("1110.00") and rows["2026-10-05"]["target"] == D("22826.09")
    assert rows["2026-10-12"]["actual"] == D("240.00")
    assert rows["2026-11-09"]["actual"] == D("500")
    assert list(rows)[-1] == "2026-11-30"
    ads = by(panels(org, ["trend_ads"])["trend_ads"], "week")
    assert ads["2026-10-05"]["actual"] == D("0.25") and ads["2026-10-05"]["target"] is None  # no ACoS item
    assert panels(org, ["trend_service"])["trend_service"].rows == []
    assert by(panels(org, ["trend_sales"], store=org.us.id)["trend_sales"], "week")["2026-10-05"]["target"] is None


def test_movers_and_freshness(org):
    found = panels(org, ["movers", "freshness"])
    assert found["movers"].rows == [{"store": "AMZ-US", "now": D("500"), "before": D("400"), "change": D("0.2500")}]
    assert [(r["store"], r["last"], r["days"]) for r in found["freshness"].rows] == \
        [("SHP-SG", None, None), ("AMZ-DE", date(2026, 10, 12), 49), ("AMZ-US", date(2026, 11, 10), 20)]
    imported = {r["store"]: r["imported"] for r in found["freshness"].rows}
    assert imported["SHP-SG"] is None and imported["AMZ-US"] is not None


def ranked_org(size, departments=False):
    """`size` people, each owning one store R-01.. with a GMV item at 80,000 + 500 x n (n = 1..size):
    2.5 x n points (threshold 80,000, target 100,000), none at risk; the store sold 10 x n.
    `departments`: each person alone in a department D-01.."""
    team = make_team(size=size)
    for n, person in enumerate(team.people, start=1):
        if departments:
            person.department = DepartmentFactory(name=f"D-{n:02d}")
        store = StoreFactory(code=f"R-{n:02d}")
        StoreOwnerFactory(store=store, person=person, share_pct=100)
        fact(store, add_import(store, team.hr, date(2026, 10, 1 + n % 28)), "ordered_sales", str(10 * n),
             date(2026, 10, 1 + n % 28), currency="USD")
        item = metric_item(team.card(person))
        item.scope = [{"store_id": store.id, "share_pct": "100"}]
        appraisal.set_actual(item, str(80000 + 500 * n), date(2026, 11, 10), {"source": "test"})
    db.session.commit()
    return team


def test_the_store_panel_shows_the_highest_and_lowest_stores_and_the_rest_is_paged(app):
    team = ranked_org(25)
    org = Org()
    org.team = team
    found = panels(org, ["stores", "freshness"])
    stores = [row["store"] for row in found["stores"].rows]
    expected = [f"R-{n:02d}" for n in range(25, 15, -1)] + [f"R-{n:02d}" for n in range(10, 0, -1)]
    assert stores == expected  # best first: the 10 highest, then the 10 lowest; R-11..R-15 left out
    assert [row["attainment"] for row in found["stores"].rows] == \
        sorted((row["attainment"] for row in found["stores"].rows), reverse=True)
    assert "of 25 stores with points" in found["stores"].note
    all_rows = all_stores(org).rows
    assert [row["store"] for row in all_rows] == [f"R-{n:02d}" for n in range(1, 26)]
    assert {row["store"]: row for row in all_rows}["R-25"] == found["stores"].rows[0]
    with current_app.test_request_context():
        first, after = company.all_stores(Filters(cycle=team.cycle.id), team.cycle, None, 10, today=TODAY)
        last, end = company.all_stores(Filters(cycle=team.cycle.id), team.cycle, "R-20", 10, today=TODAY)
    assert ([row["store"] for row in first.rows], after) == ([f"R-{n:02d}" for n in range(1, 11)], "R-10")
    assert ([row["store"] for row in last.rows], end) == ([f"R-{n:02d}" for n in range(21, 26)], None)
    # freshness: the stalest 10 of 25, oldest first (R-28 would be 10-01; R-27 is 10-28 ...)
    lasts = [row["last"] for row in found["freshness"].rows]
    assert len(lasts) == company.STALEST and lasts == sorted(lasts)
    assert lasts[-1] <= min(date(2026, 10, 1 + n % 28) for n in range(1, 26) if
                            date(2026, 10, 1 + n % 28) not in lasts)


def test_the_department_panels_show_the_highest_and_lowest_departments(app):
    org = Org()
    org.team = ranked_org(25, departments=True)
    found = panels(org, ["departments", "per_head_departments"])
    expected = [f"D-{n:02d}" for n in range(25, 15, -1)] + [f"D-{n:02d}" for n in range(10, 0, -1)]
    assert [row["department"] for row in found["departments"].rows] == expected  # 2.5 x n points
    assert "of 25 departments with points" in found["departments"].note
    per_head = found["per_head_departments"]
    assert list(dict.fromkeys(row["department"] for row in per_head.rows)) == expected  # 10 x n GMV, 1 head
    assert {row["month"] for row in per_head.rows} == {"2026-10", "2026-11"}
    assert by(per_head, "department")["D-25"]["gmv_per_head"] is None  # November: no data
    assert [row["gmv_per_head"] for row in per_head.rows if row["month"] == "2026-10"][:2] == [D("250.00"), D("240.00")]
    assert "of 25 with data" in per_head.note


def test_the_all_stores_page_pages_by_code_with_and_without_htmx(app, browser):
    team = ranked_org(55)
    hr = browser(team.hr)
    html = hr.page(f"/dashboards/company?cycle={team.cycle.id}")
    assert f'href="/dashboards/company/stores?cycle={team.cycle.id}"' in html
    html = hr.page(f"/dashboards/company/stores?cycle={team.cycle.id}")
    table = html[html.index('id="panel-stores"'):]
    assert "R-01" in table and "R-50" in table and "R-51" not in table
    assert f'href="/dashboards/company/stores?after=R-50&amp;cycle={team.cycle.id}"' in html
    assert 'hx-target="#dashboard-body"' in html and "<html" in html
    fragment = hr.get(f"/dashboards/company/stores?after=R-50&cycle={team.cycle.id}", htmx=True)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert "R-51" in text and "R-55" in text and "R-50" not in text and 'rel="next"' not in text
    assert browser(team.people[0]).get("/dashboards/company/stores").status_code == 404  # nothing public
    settings.set_public("company", "stores", True, team.hr)
    db.session.commit()
    assert browser(team.people[0]).get("/dashboards/company/stores").status_code == 200
    assert browser(ClientUserFactory()).get("/dashboards/company/stores").status_code == 403


def test_a_store_code_past_the_list_picks_one_store_and_an_unknown_one_is_ignored(org, browser, monkeypatch):
    monkeypatch.setattr(dashboard_filters, "STORE_OPTIONS", 2)
    hr = browser(org.team.hr)
    one = hr.page(f"/dashboards/company/stores?store_code=AMZ-DE&cycle={org.team.cycle.id}")
    table = one[one.index('id="panel-stores"'):]
    assert "AMZ-DE" in table and "AMZ-US" not in table and "<select name=\"store\">" not in one
    unknown = hr.page(f"/dashboards/company/stores?store_code=NOPE&cycle={org.team.cycle.id}")
    assert "were ignored: Store" in unknown and "AMZ-US" in unknown[unknown.index('id="panel-stores"'):]


def test_a_store_code_heads_its_row_as_one_word_and_other_names_may_wrap(org, browser):
    """At 390 px "AMZ-DE" broke at its hyphen; the row heading of a store is a code (app.css: th.code)."""
    hr = browser(org.team.hr)
    page = hr.page(f"/dashboards/company/stores?cycle={org.team.cycle.id}")
    codes = re.findall(r'<th scope="row" class="code">(?:<a [^>]*>)?([^<]+)<', page)
    assert "AMZ-DE" in codes and "AMZ-US" in codes
    page = hr.page(f"/dashboards/company?cycle={org.team.cycle.id}")
    codes = re.findall(r'<th scope="row" class="code">(?:<a [^>]*>)?([^<]+)<', page)
    stores = set(db.session.scalars(select(Store.code)))
    assert codes and set(codes) <= stores  # movers, freshness; never a month, grade or department


def test_grades_of_the_last_locked_cycle_match_the_cycle_distribution(app):
    team = make_team(size=3)
    for person in team.people:
        walk_to(team, person, ORDER[-1])
    found = cycle_panels(team.cycle, ["grades"])["grades"]
    expected = appraisal.cycle_distribution(team.cycle.id)
    assert {r["grade"]: r["count"] for r in found.rows} == expected["counts"]
    assert sum(r["count"] for r in found.rows) == 3 and found.title.endswith(team.cycle.name)


# ---- pages, access, public panels --------------------------------------------------------

def test_access_matrix(org, browser):
    team = org.team
    for user in (team.hr, team.admin, team.boss):
        assert browser(user).get("/dashboards/company").status_code == 200
    assert browser(team.manager).get("/dashboards/company").status_code == 404  # has a manager
    assert browser(team.people[0]).get("/dashboards/company").status_code == 404  # nothing public
    assert browser(ClientUserFactory()).get("/dashboards/company").status_code == 403
    assert browser(team.people[0]).post("/dashboards/company/public", {"panel": "stores"}).status_code == 403
    assert browser(team.boss).post("/dashboards/company/public", {"panel": "stores"}).status_code == 403


def test_hr_makes_panels_public_and_employees_see_only_those(org, browser):
    hr = browser(org.team.hr)
    html = hr.page("/dashboards/company")
    assert 'name="csrf_token"' in html and 'action="/dashboards/company/public"' in html
    response = hr.post("/dashboards/company/public", {"panel": ["freshness", "stores"]})
    assert response.status_code == 302
    assert settings.public_panels("company") == {"freshness", "stores"}
    events = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id)
                                .where(AuditEvent.entity == "dashboard_public_panel")).all()
    assert sorted(events) == [("dashboard_public_panel.create", org.team.hr.id)] * 2
    employee = browser(org.team.people[0]).page("/dashboards/company")
    assert 'id="panel-freshness"' in employee and 'id="panel-stores"' in employee
    assert 'id="panel-departments"' not in employee and 'id="panel-per_head_departments"' not in employee
    assert "/dashboards/company/public" not in employee
    assert browser(org.team.people[0]).get("/dashboards/company?download=departments&format=csv").status_code == 404
    hr.post("/dashboards/company/public", {"panel": ["stores"]})
    assert db.session.execute(select(DashboardPublicPanel.panel)).scalars().all() == ["stores"]


@pytest.mark.rollback(False)  # real commits: the request's transaction ends as it does in production
def test_the_picked_rows_are_read_from_fact_pick_not_copied_and_leave_nothing_on_the_connection(org, browser):
    """Each statement reads fact_pick's rows of its own measures and days (stop 28 copied the
    period's picked rows into a temporary table every request: ~0.5 s at 10M facts); the one
    temporary table left is the per-store sums by month the two per-head panels share."""
    statements = []
    seen = lambda _conn, _cursor, statement, *_args: statements.append(statement)  # noqa: E731
    hr = browser(org.team.hr)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for _ in range(2):  # the second request on the same pooled connection: no name is left taken
            memo().clear()  # built both times, not served from the memos (test_dashboard_memo.py)
            page_memo().clear()
            assert "Per-head efficiency by department" in hr.page(f"/dashboards/company?cycle={org.team.cycle.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    made = [s for s in statements if s.startswith("CREATE TEMPORARY TABLE")]
    windows = [s for s in statements if "OVER (PARTITION BY" in s]
    if db.engine.dialect.name == "postgresql":
        # a request: the picked rows' sums by store and month for the two per-head panels, no copy
        assert len(made) == 2 and all(" ON COMMIT DROP AS " in s for s in made)
        # the picked rows are read from fact_pick (kept between requests): no window builds them;
        # the one window a request is the store table's few stores (a CTE)
        assert len(windows) == 2 and not [s for s in windows if s.startswith("CREATE TEMPORARY TABLE")]
        assert len([s for s in made if "FROM fact_pick AS p" in s]) == 2
        left = text(r"SELECT count(*) FROM pg_class WHERE relname LIKE 'fact\_sums\_%'")
        assert db.session.execute(left).scalar() == 0
        panels(org, ["per_head_platforms"])  # in the test's own transaction: there until it commits
        assert db.session.execute(left).scalar() == 1
        db.session.commit()
        assert db.session.execute(left).scalar() == 0
    else:  # SQLite reads a CTE in each statement
        assert not made and windows


def test_the_all_stores_page_sums_only_its_own_stores(org, browser):
    """It read `facts.measures`, which made the picked rows of EVERY chosen store into a
    temporary table (485 ms at 10M facts) for a page that sums its page of stores only."""
    statements = []
    seen = lambda _conn, _cursor, statement, *_args: statements.append(statement)  # noqa: E731
    hr = browser(org.team.hr)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = hr.page(f"/dashboards/company/stores?cycle={org.team.cycle.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert "AMZ-DE" in page[page.index('id="panel-stores"'):]
    assert not [s for s in statements if s.startswith("CREATE TEMPORARY TABLE")]
    assert len([s for s in statements if "OVER (PARTITION BY" in s]) == 1  # the page's stores' CTE


def test_downloads_csv_and_xlsx(org, browser):
    hr = browser(org.team.hr)
    response = hr.get(f"/dashboards/company?cycle={org.team.cycle.id}&download=stores&format=csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == 'Store,KPI items on the store,Items at risk,"Attainment (points, 100 = target)",GMV,ACoS'
    assert lines[1:] == ["AMZ-DE,1,0,110,350,", "AMZ-US,2,1,55,1900,0.2"]  # the ranked stores shown
    response = hr.get(f"/dashboards/company/stores?cycle={org.team.cycle.id}&after=AMZ-US&download=stores&format=csv")
    lines = response.get_data().decode("utf-8-sig").splitlines()  # every store, whatever the page
    assert [line.split(",")[0] for line in lines[1:]] == ["AMZ-DE", "AMZ-US", "SHP-SG"]
    assert "SHP-SG,0,0,,," in lines
    response = hr.get(f"/dashboards/company?cycle={org.team.cycle.id}&download=per_head_platforms&format=xlsx")
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Platform", "Month", "Heads")


def test_the_page_reads_in_chinese_and_english(org, browser, monkeypatch):
    hr = browser(org.team.hr)
    english = hr.page("/dashboards/company")
    assert "Attainment by department" in english and "Data freshness" in english
    org.team.hr.locale = "zh_CN"
    db.session.commit()
    chinese = browser(org.team.hr).page("/dashboards/company")
    for words in ("按部门的达成度", "数据新鲜度", "按平台的人效", "上一个已锁定周期的等级分布"):
        assert words in chinese
    for words in ("Attainment by", "Data freshness", "per head", "Top and bottom movers", "All stores"):
        assert words not in chinese
    assert "全部店铺" in chinese
    monkeypatch.setattr(dashboard_filters, "STORE_OPTIONS", 2)  # three stores: a code field, not a list
    stores = browser(org.team.hr).page(f"/dashboards/company/stores?store_code=AMZ-US&cycle={org.team.cycle.id}")
    for words in ("全部店铺", "返回公司看板", "店铺代码", 'value="AMZ-US"'):
        assert words in stores
    for words in ("All stores", "Back to the company dashboard", "Store code", "SHP-SG</th>"):
        assert words not in stores


# ---- queries do not grow with the org ----------------------------------------------------

def org_of(size, tag):
    """A team of `size` with a started cycle; each person owns a store with a day of sales, and
    their GMV item names it (every other one with an actual, some behind pace)."""
    team = make_team(size=size)
    for n, person in enumerate(team.people):
        store = StoreFactory(code=f"{tag}-{n}")
        StoreOwnerFactory(store=store, person=person, share_pct=100)
        fact(store, add_import(store, team.hr, date(2026, 11, 1)), "ordered_sales", "100", date(2026, 10, 20),
             currency="USD")
        item = metric_item(team.card(person))
        item.scope = [{"store_id": store.id, "share_pct": "100"}]
        if n % 2:
            appraisal.set_actual(item, str(20000 * n), date(2026, 11, 10), {"source": "test"})
    db.session.commit()
    return team


def count_queries(browser, user, path):
    """(statements, bytes) of the second GET of `path` as `user`, built (the memo emptied before it)."""
    client = browser(user)
    client.get(path)
    memo().clear()  # the page built, not served from the memos (tests/web/test_dashboard_memo.py counts that)
    page_memo().clear()
    with QueryCounter(db.engines[None]) as counter:
        response = client.get(path)
        assert response.status_code == 200
    return counter.count, len(response.get_data())


def counts_of(browser, org):
    """HR's company dashboard, its all-stores page, and an employee's dashboard (the panels HR
    made public)."""
    return (count_queries(browser, org.hr, f"/dashboards/company?cycle={org.cycle.id}"),
            count_queries(browser, org.hr, f"/dashboards/company/stores?cycle={org.cycle.id}"),
            count_queries(browser, org.people[0], "/dashboards/company"))


def test_queries_and_bytes_are_the_same_at_20_and_200_people_and_stores(app, browser, monkeypatch):
    # both orgs past every bound: the bar has a code field, the tables their fixed number of rows
    monkeypatch.setattr(dashboard_filters, "STORE_OPTIONS", 10)
    monkeypatch.setattr(company, "RANKED", 3)
    monkeypatch.setattr(company, "STORE_PAGE", 5)
    small = org_of(20, "S")
    for panel in company.PANELS:  # the employee's page shows every panel, as HR's does
        settings.set_public("company", panel, True, small.hr)
    db.session.commit()
    small_counts = counts_of(browser, small)
    large = org_of(200, "L")  # 220 stores in all (the two orgs share the database)
    large_counts = counts_of(browser, large)
    assert [queries for queries, _bytes in large_counts] == [queries for queries, _bytes in small_counts]
    for (_q, small_bytes), (_q2, large_bytes) in zip(small_counts, large_counts):
        # 180 more stores would add ~90 kB in per-store rows; what differs is codes and figures
        assert abs(large_bytes - small_bytes) < 1000, (small_bytes, large_bytes)
