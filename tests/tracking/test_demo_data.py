"""The demo's marketplace files import cleanly and give the running Q4 cycle live numbers."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from kpiapp import demo
from kpiapp.demo.marketplace import DEMO_TODAY, demo_uploads
from kpiapp.extensions import db
from kpiapp.models import Cycle, ImportRecord, MetricFact, Notification, Scorecard, ScorecardItem, Store
from kpiapp.tracking import provenance
from kpiapp.tracking.paces import item_paces


LATER_STEPS = ("connections", "dashboards", "objectives", "tasks", "reviews", "reminders")


def test_seed_demo_wires_appraisal_then_marketplace_then_clients_then_reports(app, monkeypatch):
    """The order of seed_demo's steps after the organisation. Every step is stood in for: they run
    for real, in this order, where the demo is seeded whole (demo_template, tests/demo_db.py), and
    the later ones on an organisation alone would only cost time (pulling the connected stores'
    demo days: 15 s on SQLite, 50 s on PostgreSQL)."""
    calls = []
    monkeypatch.setattr("kpiapp.demo.appraisal.seed_appraisal_demo", lambda: calls.append("appraisal"))
    monkeypatch.setattr("kpiapp.demo.marketplace.seed_marketplace_demo", lambda: calls.append("marketplace"))
    monkeypatch.setattr("kpiapp.demo.clients.seed_clients_demo", lambda: calls.append("clients"))
    for step in ("reports", *LATER_STEPS):
        monkeypatch.setattr(demo, f"seed_{step}", lambda step=step: calls.append(step))
    demo.seed_demo()
    assert calls == ["appraisal", "marketplace", "connections", "clients", "reports", "dashboards", "objectives",
                     "tasks", "reviews", "reminders"]


def test_demo_files_are_deterministic():
    first, second = demo_uploads(), demo_uploads()
    # (XLSX zips carry the time they were written; their rows are compared by the import test)
    assert ([(u.filename, u.data) for u in first if not u.filename.endswith(".xlsx")]
            == [(u.filename, u.data) for u in second if not u.filename.endswith(".xlsx")])
    names = " ".join(u.filename for u in first)
    for part in ("sales_traffic_", "sp_campaigns_", "all_orders_", "settlement_", "fba_myi_", ".xlsx",
                 "All order", "erp_export", "fx_rates"):
        assert part in names


def test_marketplace_demo_gives_q4_items_live_numbers(marketplace_app):
    """On a copy of the organisation, appraisal and marketplace demo, seeded once (tests/demo_db.py);
    `report` is what seed_marketplace_demo returned."""
    _app, report = marketplace_app
    assert report["imports"] == report["committed"] > 20
    statuses = db.session.execute(select(ImportRecord.status, func.count())
                                  .group_by(ImportRecord.status)).all()
    assert dict(statuses) == {"committed": report["imports"]}
    assert db.session.execute(select(func.count()).select_from(MetricFact)).scalar() > 10000

    q4 = db.session.execute(select(Cycle).where(Cycle.name == "2026 Q4")).scalar_one()
    rows = db.session.execute(
        select(ScorecardItem).join(Scorecard)
        .where(Scorecard.cycle_id == q4.id, ScorecardItem.kind == "metric")
    ).scalars().all()
    live = [i for i in rows if i.actual is not None and i.data_as_of is not None
            and (i.provenance or {}).get("source") == "metric_facts"]
    keys = {i.metric_key for i in live}
    assert {"gmv", "acos", "tacos", "cvr", "refund_rate", "cs_response_rate_24h", "fba_in_stock_rate",
            "days_of_supply", "gross_margin", "ctr", "ad_sales", "negative_feedback_rate"} <= keys
    assert all(i.data_as_of.date() == DEMO_TODAY for i in live)
    assert all(i.provenance["import_ids"] and i.provenance["fact_count"] > 0 for i in live)
    acos = next(i for i in live if i.metric_key == "acos")
    assert Decimal("0.1") < acos.actual < Decimal("0.4")
    assert acos.provenance["formula"] == "ad_spend / ad_sales"
    amz_us = db.session.execute(select(Store.id).where(Store.code == "AMZ-US")).scalar_one()
    for key in ("acos", "gmv", "tacos"):  # GMV: AMZ-US's Business Report days drop its order file's
        item = next(i for i in sorted(live, key=lambda i: i.id) if i.metric_key == key
                    and (key == "acos" or amz_us in {s["store_id"] for s in i.scope or []}))
        found = assert_rows_add_up(item)
        assert found.dropped or key == "acos"
    # the locked Q3 cycle keeps its frozen demo values
    q3 = db.session.execute(select(Cycle).where(Cycle.name == "2026 Q3")).scalar_one()
    q3_items = db.session.execute(select(ScorecardItem).join(Scorecard).where(
        Scorecard.cycle_id == q3.id, ScorecardItem.kind == "metric")).scalars().all()
    assert q3_items and all((i.provenance or {}).get("source") != "metric_facts" for i in q3_items)
    assert q4.period_start == date(2026, 10, 1)
    assert_two_store_owners_at_risk(q4, rows, report)
    store_dashboard_shows_believable_series(q4)


def assert_rows_add_up(item):
    """The provenance page's rows of a demo item, summed per measure, are the item's inputs."""
    found = provenance.item_provenance(item)
    sums, after, counted = defaultdict(Decimal), None, 0
    while True:
        rows, after = provenance.fact_page(found, after=after, size=5000)
        counted += len(rows)
        for row in rows:
            sums[row.measure] += row.counted
        if after is None:
            break
    assert {k: v for k, v in sums.items()} == found.inputs and not found.differs, item.metric_key
    assert counted == found.today.fact_count == item.provenance["fact_count"]
    return found


def assert_two_store_owners_at_risk(q4, rows, report):
    """The owners of AMZ-DE and AMZ-UK raised their GMV targets and are behind pace (docs/pace.md)."""
    paces = item_paces(rows, today=DEMO_TODAY)
    risky = {(i.scorecard.person.email.split("@")[0], i.metric_key) for i in rows if paces[i.id].at_risk}
    assert risky == {("zhao.lei", "gmv"), ("eu.lead", "gmv")}
    zhao = next(i for i in rows if i.metric_key == "gmv" and i.scorecard.person.email.startswith("zhao.lei@"))
    p = paces[zhao.id]
    # 57 of 92 days: expected 140,000 x 57 / 92; forecast = actual x 92 / 57, below the 120,000 threshold
    assert (p.days_elapsed, p.period_days, p.expected_to_date) == (57, 92, Decimal("86739.130435"))
    assert p.forecast == (zhao.actual * 92 / 57).quantize(Decimal("0.000001")) < Decimal("120000")
    assert report["at_risk"] == 2
    told = db.session.execute(select(Notification.user_id).where(Notification.key == "pace.at_risk")).scalars()
    assert sorted(told) == sorted({i.scorecard.person_id for i in rows if paces[i.id].at_risk})


def store_dashboard_shows_believable_series(q4):
    """The demo's AMZ-US on the store dashboard: a weekly GMV series up to the demo's today,
    Black Friday week above the first full week, a plausible CVR, its three owners."""
    from kpiapp.dashboards import stores
    from kpiapp.models import Store, User

    shop = db.session.execute(select(Store).where(Store.code == "AMZ-US")).scalar_one()
    hr = db.session.execute(select(User).where(User.email.like("hr@%"))).scalar_one()
    labels = {key: key for key in stores.LABEL_KEYS}
    page = stores.store_page(shop, q4, (q4.period_start, q4.period_end), hr, "en", labels, "USD")
    panels = {p.key: p for p in page.panels}
    weeks = [row["gmv"] for row in panels["sales"].rows]
    assert all(weeks[:9]) and not any(weeks[9:])  # 10-01 .. the week of 11-26, nothing after
    assert weeks[8] > weeks[1]  # Black Friday week (11-23 ..) over the first full week
    cvr = next(row["period"] for row in panels["summary"].rows if row["key"] == "cvr")
    assert Decimal("0.05") < cvr < Decimal("0.2")
    owners = panels["owners"].rows
    assert sum({row["owner"]: row["share"] for row in owners}.values()) == 1
    assert page.data_as_of == DEMO_TODAY
