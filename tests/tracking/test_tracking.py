"""Tracking: metric items' actuals from imported facts, shares and FX; locked cards untouched."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.imports.services import start_import
from kpiapp.models import ImportRecord, Scorecard, StoreOwner
from kpiapp.tracking import services as tracking
from tests.appraisal.factories import HRFactory, walk_to
from tests.factories import DepartmentFactory, PositionFactory, UserFactory
from tests.imports.files import ads_report, business_report, fx_file, generic_file, store

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

TODAY = tracking.utc_today()
START = TODAY - timedelta(days=30)
D1, D2 = START + timedelta(days=5), START + timedelta(days=6)

ITEMS = [
    {"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": "40", "threshold": "0.35",
     "target": "0.25", "stretch": "0.18", "rule": {"kind": "linear", "cap": "120"}},
    {"kind": "metric", "metric_key": "gmv", "name": "GMV", "weight": "30", "threshold": "100",
     "target": "200", "stretch": "300", "rule": {"kind": "linear", "cap": "120"}},
    {"kind": "manual", "name": "Teamwork", "weight": "30", "description": "Helps",
     "rule": {"kind": "manual", "scale_max": "5"}},
]


class Setup:
    pass


@pytest.fixture
def world(app):
    w = Setup()
    w.app = app
    w.us = store(code="US-1")
    w.de = store(code="DE-1", currency="EUR", marketplace="DE", timezone="Europe/Berlin")
    dept, pos = DepartmentFactory(), PositionFactory()
    w.hr = HRFactory(department=dept)
    w.boss = UserFactory(department=dept)
    w.manager = UserFactory(department=dept, manager=w.boss)
    w.people = [UserFactory(department=dept, position=pos, manager=w.manager) for _ in range(2)]
    db.session.add_all([StoreOwner(store=w.us, person=w.people[0], share_pct=Decimal("100")),
                        StoreOwner(store=w.de, person=w.people[0], share_pct=Decimal("50")),
                        StoreOwner(store=w.de, person=w.people[1], share_pct=Decimal("50"))])
    db.session.flush()
    template = services.create_template(w.hr, code="trk", name="Tracking", items=ITEMS, position_id=pos.id)
    w.cycle = services.create_cycle(w.hr, name="Now", kind="quarterly", period_start=START,
                                    period_end=START + timedelta(days=90),
                                    participants=[{"position_id": pos.id}])
    services.start_cycle(w.cycle.id, w.hr.id)
    db.session.commit()
    w.template = template
    return w


def card_of(world, person):
    return db.session.query(Scorecard).filter_by(cycle_id=world.cycle.id, person_id=person.id).one()


def item(card, key):
    return next(i for i in card.items if i.metric_key == key)


def load(data, name, shop, user, **kw):
    record = start_import(data, name, shop.id if shop else None, user, **kw)
    assert record.status == "committed", (record.error, record.errors)
    return record


def load_acos_data(w):
    load(ads_report([(D1, "A", 1000, 50, "10.00", "100.00"), (D2, "A", 1000, 50, "30.00", "50.00")]),
         "us.csv", w.us, w.hr)
    load(ads_report([(D1, "B", 1000, 50, "20.00", "40.00")], currency="EUR"), "de.csv", w.de, w.hr)
    return load(fx_file([(D1.isoformat(), "EUR", "1.10")]), "fx.csv", None, w.hr, kind="fx")


def test_acos_is_ratio_of_sums_with_shares_and_fx(world):
    w = world
    with tracking.suspended():
        load_acos_data(w)
    card = card_of(w, w.people[0])
    changed = tracking.recompute_scorecard(card.id)
    db.session.commit()
    acos = item(card, "acos")
    # spend = 10 + 30 + 0.5 * 20 * 1.10 = 51; sales = 100 + 50 + 0.5 * 40 * 1.10 = 172
    assert acos.actual == (Decimal(51) / Decimal(172)).quantize(Decimal("0.000001"))
    assert acos.data_as_of.date() == D2
    p = acos.provenance
    assert p["inputs"] == {"ad_spend": "51", "ad_sales": "172"} and p["formula"] == "ad_spend / ad_sales"
    assert p["fact_count"] > 0 and len(p["import_ids"]) == 2 and p["fx"] == [f"EUR {D1.isoformat()} @ 1.1"]
    assert p["reason"] is None and p["definition_version"] == 1
    assert acos.computed_points is not None
    # GMV has no ordered_sales facts: no data, with the reason
    gmv = item(card, "gmv")
    assert gmv.actual is None and gmv.provenance["reason"] == "no_data"
    assert changed == 2
    # idempotent: nothing changes the second time
    assert tracking.recompute_scorecard(card.id) == 0
    # the other person holds half of DE only
    other = item(card_of(w, w.people[1]), "acos")
    tracking.recompute_cycle(w.cycle.id)
    assert other.actual == Decimal("0.5")


def test_missing_fx_rate_is_no_data_with_reason(world):
    w = world
    with tracking.suspended():
        load(ads_report([(D1, "B", 1000, 50, "20.00", "40.00")], currency="EUR"), "de.csv", w.de, w.hr)
    card = card_of(w, w.people[1])
    tracking.recompute_scorecard(card.id)
    acos = item(card, "acos")
    assert acos.actual is None and acos.provenance["reason"] == "missing_rates"
    assert acos.provenance["missing_rates"]


def test_import_hook_recomputes_in_process(world):
    w = world
    load_acos_data(w)  # no suspended(): every commit enqueues the in-process recompute
    db.session.expire_all()
    acos = item(card_of(w, w.people[0]), "acos")
    assert acos.actual == (Decimal(51) / Decimal(172)).quantize(Decimal("0.000001"))
    # a later generic import for US recomputes GMV through the hook
    load(generic_file([(D1.isoformat(), "", "", "ordered_sales", "250", "USD")]), "erp.csv", w.us, w.hr)
    db.session.expire_all()
    gmv = item(card_of(w, w.people[0]), "gmv")
    assert gmv.actual == Decimal("250") and gmv.data_as_of.date() == D1
    assert gmv.computed_points is not None


def test_the_tracking_job_reads_the_imports_facts_once_for_both_recomputes(world, monkeypatch):
    """The job after an import recomputes metric key results, then scorecards: both need the
    import's stores and dates, read from its facts once (tracking.footprint_once)."""
    w = world
    reads = []
    real = tracking.import_footprint
    monkeypatch.setattr(tracking, "import_footprint",
                        lambda import_id: reads.append(import_id) or real(import_id))
    record = load(generic_file([(D1.isoformat(), "", "", "ordered_sales", "250", "USD")]), "erp.csv",
                  w.us, w.hr)
    assert reads == [record.id]
    assert tracking.recompute_import(record.id) == (1, 0)  # the job recomputed people[0]'s card already
    assert reads == [record.id, record.id]  # called alone, it reads them itself
    db.session.expire_all()
    assert item(card_of(w, w.people[0]), "gmv").actual == Decimal("250")


def test_an_import_keeps_its_footprint_and_the_tracking_job_reads_no_fact_for_it(world, monkeypatch):
    """The write phase keeps the stores and dates of the facts it wrote on the record (migration
    0042): what a pass over the facts gives. The tracking job takes them from there; a record
    without them (committed before 0042) is read from its facts."""
    w = world
    monkeypatch.setattr(tracking, "read_footprint", lambda import_id: pytest.fail("facts read"))
    rows = [(D1.isoformat(), "", "", "ordered_sales", "250", "USD"),
            ((D1 + timedelta(days=3)).isoformat(), "", "", "ordered_sales", "40", "USD")]
    record = load(generic_file(rows), "erp.csv", w.us, w.hr)
    db.session.expire_all()
    assert item(card_of(w, w.people[0]), "gmv").actual == Decimal("290")
    record = db.session.get(ImportRecord, record.id)
    last = D1 + timedelta(days=3)
    assert (record.facts_stores, record.facts_from, record.facts_to) == ([w.us.id], D1, last)
    monkeypatch.undo()
    assert tracking.read_footprint(record.id) == ({w.us.id}, D1, last)
    record.facts_stores = None
    db.session.commit()
    assert tracking.import_footprint(record.id) == ({w.us.id}, D1, last)


def test_locked_scorecards_are_untouched(world):
    w = world
    team = Setup()
    team.manager, team.hr = w.manager, w.hr
    team.card = lambda person: card_of(w, person)
    services.set_actual(item(card_of(w, w.people[0]), "gmv"), "150", START, {"source": "test"})
    db.session.commit()
    card = walk_to(team, w.people[0], S.LOCKED, actual="0.3")
    assert card.state == S.LOCKED
    before = {i.id: (i.actual, i.data_as_of, i.provenance) for i in card.items}
    load_acos_data(w)  # the hook runs
    assert tracking.recompute_scorecard(card.id) == 0
    assert tracking.recompute_cycle(w.cycle.id) == 0  # the hook updated the other card already
    assert item(card_of(w, w.people[1]), "acos").actual == Decimal("0.5")
    db.session.expire_all()
    card = card_of(w, w.people[0])
    assert {i.id: (i.actual, i.data_as_of, i.provenance) for i in card.items} == before


def test_after_import_selects_by_store_and_period(world):
    w = world
    with tracking.suspended():
        record = load(business_report([("B0CHILD001", 100, 10, "$500.00")]), "br.csv", w.us, w.hr,
                      date_from=D1, date_to=D1)
    ids = tracking.scorecards_for_import(record)
    assert ids == [card_of(w, w.people[0]).id]  # people[1] holds only DE
    with tracking.suspended():
        old = load(business_report([("B0CHILD001", 100, 10, "$500.00")]), "old.csv", w.us, w.hr,
                   date_from=START - timedelta(days=200), date_to=START - timedelta(days=200))
    assert tracking.scorecards_for_import(old) == []  # outside every open cycle
    assert tracking.recompute_after_import(record.id) >= 1
    assert item(card_of(w, w.people[0]), "gmv").actual == Decimal("500")


def test_cli_recompute(world, app):
    w = world
    with tracking.suspended():
        load_acos_data(w)
    result = CliRunner().invoke(app.cli, ["kpi", "recompute", "--cycle", str(w.cycle.id)],
                                catch_exceptions=False)
    assert result.exit_code == 0 and "items updated" in result.output
    db.session.expire_all()
    assert item(card_of(w, w.people[0]), "acos").actual is not None


def test_reasons_for_no_scope_and_future_period(world):
    w = world
    lonely = UserFactory(department=w.boss.department, position=w.people[0].position, manager=w.manager)
    services.add_participants(w.cycle, w.hr, [{"person_id": lonely.id}])
    services.start_cycle(w.cycle.id, w.hr.id)
    db.session.commit()
    card = card_of(w, lonely)
    tracking.recompute_scorecard(card.id)
    acos = item(card, "acos")
    assert acos.actual is None and acos.provenance["reason"] == "no_scope"
    with w.app.test_request_context():
        assert str(tracking.reason_text("no_scope")) == "No stores are in this item's scope."
    tracking.recompute_scorecard(card_of(w, w.people[0]).id, today=START - timedelta(days=1))
    assert item(card_of(w, w.people[0]), "acos").provenance["reason"] == "period_not_started"


def test_import_summary_shows_how_many_scorecards_were_recomputed(world, login):
    w = world
    us = load(ads_report([(D1, "A", 1000, 50, "10.00", "100.00")]), "us.csv", w.us, w.hr)  # hook runs
    de = load(ads_report([(D1, "B", 1000, 50, "20.00", "40.00")], currency="EUR"), "de.csv", w.de, w.hr)
    assert tracking.recompute_import(us.id) == (1, 0)  # people[0] only; already up to date
    client = login(w.hr)
    assert 'data-recomputed="done">1</td>' in client.get(f"/imports/{us.id}").get_data(as_text=True)
    page = client.get(f"/imports/{de.id}").get_data(as_text=True)
    assert "Scorecards recomputed" in page and 'data-recomputed="done">2</td>' in page  # DE is shared
    w.hr.locale = "zh_CN"
    db.session.commit()
    assert "重新计算的考核表" in client.get(f"/imports/{de.id}").get_data(as_text=True)
