"""The provenance page (issue 12): from an item's number to exactly the fact rows summed.

The scope: one person holds US-1 (USD) at 60 % and DE-1 (EUR) at 40 %; ACoS = ad_spend / ad_sales.
Facts (spend, sales): US-1 ads D1 (10, 100), D2 (30, 50); DE-1 ads in EUR D1 (20, 40), D2 (5, 25);
a generic ERP file for US-1 with ad_spend 7 on D3 (counted) and ad_spend 99 on D1 (dropped: the
ads report, of higher priority, covers that day). EUR is 1.10 on D1 and 1.20 on D2.

    spend = 0.6 * (10 + 30 + 7) + 0.4 * (20 * 1.10 + 5 * 1.20) = 28.2 + 11.2 = 39.4
    sales = 0.6 * (100 + 50)     + 0.4 * (40 * 1.10 + 25 * 1.20) = 90 + 29.6  = 119.6
"""
import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import Scorecard, StoreOwner
from kpiapp.models.reports import IssuedReport, ReportKind
from kpiapp.tracking import provenance
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import HRFactory, walk_to
from tests.factories import ClientUserFactory, DepartmentFactory, PositionFactory, UserFactory
from tests.imports.files import ads_report, fx_file, generic_file, store
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

TODAY = tracking.utc_today()
START = TODAY - timedelta(days=30)
D1, D2, D3 = (START + timedelta(days=n) for n in (5, 6, 7))

ITEMS = [
    {"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": "70", "threshold": "0.45",
     "target": "0.35", "stretch": "0.25", "rule": {"kind": "linear", "cap": "120"}},
    {"kind": "manual", "name": "Teamwork", "weight": "30", "description": "Helps",
     "rule": {"kind": "manual", "scale_max": "5"}},
]


class Setup:
    pass


@pytest.fixture
def world(app):
    w = Setup()
    w.us = store(code="US-1")
    w.de = store(code="DE-1", currency="EUR", marketplace="DE", timezone="Europe/Berlin")
    dept, pos = DepartmentFactory(), PositionFactory()
    w.hr = HRFactory(department=dept)
    w.manager = UserFactory(department=dept)
    w.owner = UserFactory(department=dept, position=pos, manager=w.manager)
    w.colleague = UserFactory(department=dept, manager=w.manager)
    w.client = ClientUserFactory()
    db.session.add_all([StoreOwner(store=w.us, person=w.owner, share_pct=Decimal("60")),
                        StoreOwner(store=w.de, person=w.owner, share_pct=Decimal("40"))])
    db.session.flush()
    services.create_template(w.hr, code="prov", name="Provenance", items=ITEMS, position_id=pos.id)
    w.cycle = services.create_cycle(w.hr, name="Now", kind="quarterly", period_start=START,
                                    period_end=START + timedelta(days=90), participants=[{"position_id": pos.id}])
    services.start_cycle(w.cycle.id, w.hr.id)
    db.session.commit()
    with tracking.suspended():
        load(ads_report([(D1, "A", 1000, 50, "10.00", "100.00"), (D2, "A", 1000, 50, "30.00", "50.00")]),
             "us.csv", w.us, w.hr)
        load(ads_report([(D1, "B", 1000, 50, "20.00", "40.00"), (D2, "B", 900, 40, "5.00", "25.00")],
                        currency="EUR"), "de.csv", w.de, w.hr)
        load(generic_file([(D3.isoformat(), "", "", "ad_spend", "7", "USD"),
                           (D1.isoformat(), "", "", "ad_spend", "99", "USD")]), "erp.csv", w.us, w.hr)
        load(fx_file([(D1.isoformat(), "EUR", "1.10"), (D2.isoformat(), "EUR", "1.20")]), "fx.csv", None, w.hr,
             kind="fx")
    w.card = db.session.query(Scorecard).filter_by(cycle_id=w.cycle.id, person_id=w.owner.id).one()
    tracking.recompute_scorecard(w.card.id)
    db.session.commit()
    w.item = next(i for i in w.card.items if i.metric_key == "acos")
    return w


def load(data, name, shop, user, **kw):
    record = start_import(data, name, shop.id if shop else None, user, **kw)
    assert record.status == "committed", (record.error, record.errors)
    return record


def all_rows(found, size):
    rows, pages, after = [], [], None
    while True:
        page, after = provenance.fact_page(found, after=after, size=size)
        rows += page
        pages.append(len(page))
        if after is None:
            return rows, pages


def test_listed_rows_add_up_to_the_inputs(world):
    w = world
    assert w.item.provenance["inputs"] == {"ad_spend": "39.4", "ad_sales": "119.6"}
    found = provenance.item_provenance(w.item)
    rows, pages = all_rows(found, size=3)
    assert pages == [3, 3, 3]  # 8 ads facts + ERP's D3 spend; ERP's D1 spend is not summed
    assert len(rows) == found.today.fact_count == w.item.provenance["fact_count"] == 9
    sums = defaultdict(Decimal)
    for row in rows:
        sums[row.measure] += row.counted
    assert dict(sums) == {"ad_spend": Decimal("39.4"), "ad_sales": Decimal("119.6")} == found.inputs
    assert not found.differs
    listed = {(r.filename, r.source_line, r.measure, r.value, r.rate, r.share) for r in rows}
    assert ("erp.csv", 2, "ad_spend", Decimal(7), None, Decimal("0.6")) in listed
    assert not any(r.filename == "erp.csv" and r.value == 99 for r in rows)
    assert ("de.csv", 3, "ad_sales", Decimal(25), Decimal("1.2"), Decimal("0.4")) in listed
    assert found.rates == [(D1, "EUR", Decimal("1.1")), (D2, "EUR", Decimal("1.2"))]
    assert [r.filename for r in found.imports] == ["us.csv", "de.csv", "erp.csv"]
    assert [(s.code, share) for s, share in found.stores] == [("US-1", Decimal(60)), ("DE-1", Decimal(40))]
    assert found.definition.formula == "ad_spend / ad_sales" and found.measures == ["ad_sales", "ad_spend"]
    assert provenance.rate_page(found, 0, size=1) == ([(D1, "EUR", Decimal("1.1"))], 1)
    assert provenance.rate_page(found, 1, size=1) == ([(D2, "EUR", Decimal("1.2"))], None)


def test_page_shows_the_rows_and_pages_with_links(world, login):
    w = world
    client = login(w.owner)
    html = client.get(f"/provenance/items/{w.item.id}").get_data(as_text=True)
    assert "ad_spend / ad_sales" in html and "US-1" in html and "DE-1" in html
    assert len(re.findall(r'id="fact-\d+"', html)) == 9 and "erp.csv" in html and "60%" in html
    assert "$39.40" in html and "$119.60" in html
    scorecard = client.get(f"/scorecards/{w.card.id}").get_data(as_text=True)
    assert f'href="/provenance/items/{w.item.id}"' in scorecard


def test_page_is_paged_by_fact_id(world, login, monkeypatch):
    w = world
    monkeypatch.setattr(provenance, "ROWS_PER_PAGE", 4)
    client = login(w.owner)
    first = client.get(f"/provenance/items/{w.item.id}").get_data(as_text=True)
    assert len(re.findall(r'id="fact-\d+"', first)) == 4
    after = re.search(r'href="[^"]*\?after=(\d+)"[^>]*rel="next"', first).group(1)
    second = client.get(f"/provenance/items/{w.item.id}?after={after}").get_data(as_text=True)
    assert len(re.findall(r'id="fact-\d+"', second)) == 4 and "First page" in second
    ids = set(re.findall(r'id="fact-(\d+)"', first)) | set(re.findall(r'id="fact-(\d+)"', second))
    assert len(ids) == 8
    fragment = client.get(f"/provenance/items/{w.item.id}?after={after}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith("<section") and "<html" not in html and "HX-Request" in fragment.vary
    assert re.findall(r'id="fact-\d+"', html) == re.findall(r'id="fact-\d+"', second)


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("manager", 200), ("hr", 200), ("colleague", 404), ("client", 404),
])
def test_who_may_see_the_page(world, login, who, status):
    w = world
    assert login(getattr(w, who)).get(f"/provenance/items/{w.item.id}").status_code == status


def test_manual_item_and_unknown_item_are_404(world, login):
    w = world
    manual = next(i for i in w.card.items if i.is_manual)
    client = login(w.hr)
    assert client.get(f"/provenance/items/{manual.id}").status_code == 404
    assert client.get("/provenance/items/999999").status_code == 404


def test_locked_scorecard_shows_frozen_inputs_and_todays_rows(world, login):
    w = world
    team = Setup()
    team.manager, team.hr = w.manager, w.hr
    team.card = lambda person: w.card
    walk_to(team, w.owner, S.MANAGER_REVIEW)  # the walk sets a test actual on the way
    tracking.recompute_scorecard(w.card.id)
    db.session.commit()
    card = walk_to(team, w.owner, S.LOCKED)
    assert card.state == S.LOCKED
    load(generic_file([(D3.isoformat(), "", "", "ad_sales", "80.4", "USD")]), "late.csv", w.us, w.hr)
    db.session.expire_all()
    found = provenance.item_provenance(w.item)
    assert found.inputs == {"ad_spend": Decimal("39.4"), "ad_sales": Decimal("119.6")}  # frozen
    assert found.today.inputs["ad_sales"] == Decimal("119.6") + Decimal("0.6") * Decimal("80.4")  # 167.84
    assert found.differs
    rows, _pages = all_rows(found, size=100)
    assert sum(r.counted for r in rows if r.measure == "ad_sales") == Decimal("167.84")
    html = login(w.owner).get(f"/provenance/items/{w.item.id}").get_data(as_text=True)
    assert "The facts have changed since this number was computed" in html
    assert "$119.60" in html and "$167.84" in html and "late.csv" in html and "is locked" in html


def test_query_count_does_not_grow_with_the_facts(world, login):
    w = world
    client = login(w.owner)
    url = f"/provenance/items/{w.item.id}"
    client.get(url)
    with QueryCounter(db.engines[None]) as few:
        assert client.get(url).status_code == 200
    rows = [((D1 + timedelta(days=n % 20)).isoformat(), "", f"SKU{n}", "ad_spend", "1", "USD")
            for n in range(300)]
    load(generic_file(rows), "many.csv", w.us, w.hr)
    tracking.recompute_scorecard(w.card.id)
    db.session.commit()
    found = provenance.item_provenance(w.item)
    assert len(all_rows(found, size=100)[0]) > 100  # more than one page now
    client.get(url)  # the first request after a write asks the menu again (kept per data token)
    with QueryCounter(db.engines[None]) as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count


def test_chinese_user_reads_chinese(world, login):
    w = world
    w.owner.locale = "zh_CN"
    db.session.commit()
    html = login(w.owner).get(f"/provenance/items/{w.item.id}").get_data(as_text=True)
    assert "这个数字从何而来" in html and "计入" in html and "Fact rows" not in html


def add_report(w, person):
    report = IssuedReport(document_id="doc-prov-1", kind=ReportKind.scorecard, issue_key="key-prov-1",
                          scorecard_id=w.card.id, scorecard_version=w.card.version, cycle_id=w.cycle.id,
                          person_id=person.id, lang="en", pdf=b"%PDF", size=4, sha256="0" * 64,
                          signer_subject="test", issued_by_id=w.hr.id)
    db.session.add(report)
    db.session.commit()
    return report


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("manager", 200), ("hr", 200), ("colleague", 404), ("client", 404),
])
def test_report_document_id_leads_to_the_items(world, login, who, status):
    w = world
    report = add_report(w, w.owner)
    response = login(getattr(w, who)).get(f"/reports/{report.document_id}/provenance")
    assert response.status_code == status
    if status == 200:
        assert f'href="/provenance/items/{w.item.id}"' in response.get_data(as_text=True)


def test_item_without_data_says_why(world, login):
    w = world
    lonely = UserFactory(department=w.manager.department, position=w.owner.position, manager=w.manager)
    services.add_participants(w.cycle, w.hr, [{"person_id": lonely.id}])
    services.start_cycle(w.cycle.id, w.hr.id)
    db.session.commit()
    card = db.session.query(Scorecard).filter_by(cycle_id=w.cycle.id, person_id=lonely.id).one()
    tracking.recompute_scorecard(card.id)
    db.session.commit()
    acos = next(i for i in card.items if i.metric_key == "acos")
    html = login(w.hr).get(f"/provenance/items/{acos.id}").get_data(as_text=True)
    assert "No stores are in this item" in html  # reason_text("no_scope")
    assert "No fact rows are behind this number." in html and "No imports are behind this number." in html
