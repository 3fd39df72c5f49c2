"""The frame every dashboard shares (docs/dashboards.md): filters read from the address,
narrowed to what the reader is offered; a panel's table as CSV/XLSX; who may see which stores
and departments; the dashboards index."""
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kpiapp import policy
from kpiapp.dashboards.filters import Filters, choices
from kpiapp.dashboards.panels import Column, Panel, download
from kpiapp.extensions import db
from kpiapp.models import Department, Store
from tests.factories import ClientUserFactory, StoreOwnerFactory

pytestmark = pytest.mark.rollback


class Args(dict):
    def get(self, key, default=None):
        return super().get(key, default)


def test_filters_read_what_they_can_and_name_what_they_drop():
    filters = Filters.from_args(Args(cycle="3", period="2026-13", department="x1", platform="shopee",
                                     store="12", extra="ignored anyway"))
    assert (filters.cycle, filters.period, filters.department, filters.platform, filters.store) == \
        (3, None, None, "shopee", 12)
    assert filters.ignored == ("period", "department")
    assert filters.query() == {"cycle": 3, "platform": "shopee", "store": 12}
    assert filters.query(store=None, period="2026-11") == {"cycle": 3, "period": "2026-11", "platform": "shopee"}
    assert Filters.from_args(Args(platform="ebay", cycle="99999999999")).ignored == ("cycle", "platform")


def test_a_month_is_clipped_to_the_cycle(team):
    cycle = team.cycle  # 2026-10-01 .. 2026-12-31
    assert Filters(period="2026-11").date_range(cycle) == (date(2026, 11, 1), date(2026, 11, 30))
    assert Filters(period="2026-12").date_range(cycle) == (date(2026, 12, 1), date(2026, 12, 31))
    assert Filters(period="2026-09").date_range(cycle)[0] > Filters(period="2026-09").date_range(cycle)[1]
    assert Filters().date_range(cycle) == (date(2026, 10, 1), date(2026, 12, 31))


def test_stores_and_departments_follow_the_reporting_line(team):
    mine, theirs, other = (StoreOwnerFactory(person=p).store for p in (team.manager, team.people[0], team.hr))
    other_department = team.hr2.department = Department(name="Elsewhere")
    db.session.commit()

    def stores(user):
        return set(db.session.execute(select(Store.id).where(policy.visible_stores_filter(user))).scalars())

    def departments(user):
        return set(db.session.execute(select(Department.id).where(policy.visible_departments_filter(user))).scalars())

    assert stores(team.manager) == {mine.id, theirs.id}
    assert stores(team.people[0]) == {theirs.id}
    assert stores(team.people[1]) == set()
    assert stores(team.hr) >= {mine.id, theirs.id, other.id}
    assert stores(ClientUserFactory()) == set()
    assert departments(team.manager) == {team.manager.department_id}
    assert other_department.id in departments(team.hr)


def test_a_shared_link_never_widens_what_the_reader_sees(team):
    theirs = StoreOwnerFactory(person=team.people[0]).store
    foreign = StoreOwnerFactory(person=team.hr).store
    offered = choices(team.people[0])
    asked = Filters(store=foreign.id, platform="lazada")
    assert asked.within(offered) == Filters()
    assert asked.within(offered).ignored == ("store", "platform")
    assert Filters(store=theirs.id).within(offered).store == theirs.id
    assert offered["platforms"] == ["amazon"]
    assert [c for c, _ in offered["cycles"]] == [team.cycle.id]


def test_company_figures_are_for_hr_and_the_top_of_the_line(team):
    assert policy.can_view_company_dashboard(team.hr) and policy.can_view_company_dashboard(team.admin)
    assert policy.can_view_company_dashboard(team.boss)
    assert not policy.can_view_company_dashboard(team.manager)  # has a manager of their own
    assert not policy.can_view_company_dashboard(team.people[0])
    assert not policy.can_view_company_dashboard(ClientUserFactory())


PANEL = Panel("stores", "Stores", [Column("store", "Store"), Column("gmv", "GMV", "money"),
                                    Column("share", "Share", "fraction")],
              [{"store": "=HYPERLINK(\"x\")", "gmv": Decimal("1234.5"), "share": Decimal("0.125")},
               {"store": "AMZ-JP", "gmv": None, "share": None}])


def test_a_panel_reads_in_the_page_language_and_never_shows_zero_for_no_data():
    assert PANEL.cells("en") == [['=HYPERLINK("x")', "1,234.50", "12.5%"], ["AMZ-JP", "—", "—"]]
    assert PANEL.cells("zh_CN")[1] == ["AMZ-JP", "—", "—"]


def test_a_panel_downloads_as_csv_and_xlsx_with_formulas_defused():
    body, name, mimetype = download(PANEL, "csv", "company")
    assert name == "company-stores.csv" and mimetype.startswith("text/csv")
    assert body.decode("utf-8-sig").splitlines() == ["Store,GMV,Share", "\"'=HYPERLINK(\"\"x\"\")\",1234.5,0.125",
                                                     "AMZ-JP,,"]
    body, name, _ = download(PANEL, "xlsx", "company")
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert name == "company-stores.xlsx"
    assert rows[1][0] == "'=HYPERLINK(\"x\")" and rows[1][1] == "1234.5"
    assert download(PANEL, "pdf", "company") is None


def test_the_index_lists_only_dashboards_the_reader_may_open(team, browser):
    html = browser(team.people[0]).page("/dashboards/")
    assert "<h1>" in html
    assert browser(ClientUserFactory()).get("/dashboards/").status_code == 403


def test_a_column_may_take_each_rows_unit_from_the_row():
    by_row = Panel("summary", "Summary", [Column("metric", "Metric"), Column("value", "Value", currency="USD",
                                                                             unit_key="unit")],
                   [{"metric": "GMV", "unit": "money", "value": Decimal("1234.5")},
                    {"metric": "CVR", "unit": "fraction", "value": Decimal("0.125")},
                    {"metric": "ACoS", "unit": "fraction", "value": None}])
    assert by_row.cells("en") == [["GMV", "$1,234.50"], ["CVR", "12.5%"], ["ACoS", "—"]]


TEAM_ASKS = [Filters(), Filters(department=1), Filters(platform="amazon"), Filters(platform="lazada"),
             Filters(store_code="NOPE"), Filters(cycle=1, platform="shopee")]


def test_the_team_bar_reads_stores_and_platforms_only_for_a_filter_naming_them(team, app):
    """The team dashboard's bar shows cycle and department: its offer skips the store and
    platform lists (two statements) unless the address names a store or platform, and narrows
    every filter as the whole offer does."""
    from kpiapp.dashboards.routes.common import BAR
    from tests.web.test_page_queries import QueryCounter

    mine = StoreOwnerFactory(person=team.people[0]).store
    foreign = StoreOwnerFactory(person=team.hr).store
    asks = [*TEAM_ASKS, Filters(store=mine.id), Filters(store=foreign.id), Filters(store_code=mine.code)]
    for reader in (team.manager, team.boss, team.hr):
        for asked in asks:
            whole = choices(reader, asked)
            with QueryCounter(db.engine) as full:
                choices(reader, asked)
            with QueryCounter(db.engine) as bar:
                offered = choices(reader, asked, BAR["team"])
            assert asked.within(offered) == asked.within(whole), (reader.role, asked)
            assert asked.within(offered).ignored == asked.within(whole).ignored
            assert offered["cycles"] == whole["cycles"] and offered["departments"] == whole["departments"]
            store = asked.store is not None or asked.store_code is not None
            assert bar.count == full.count - 2 + (asked.platform is not None) + store, (reader.role, asked)
