"""The person and team dashboards (docs/pace.md): pace, at risk first, who may see whom,
downloads, zh, and the same number of queries for 20 and 200 people."""
import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import String, select, text

from kpiapp import presentation
from kpiapp.appraisal import services
from kpiapp.dashboards.team import code_point_order
from kpiapp.extensions import db
from kpiapp.models import ImportRecord, MetricFact, Scorecard, StoreOwner
from kpiapp.tracking import services as tracking
from kpiapp.tracking.paces import paced_items
from tests.appraisal.factories import HRFactory
from tests.factories import ClientUserFactory, DepartmentFactory, PositionFactory, UserFactory
from tests.helpers import signed_in_client
from tests.imports.files import store
from tests.tracking.test_paces import ITEMS
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback

START, END, TODAY = date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 10)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    for module in ("person", "team"):
        monkeypatch.setattr(f"kpiapp.dashboards.routes.{module}.utc_today", lambda: TODAY)


class Org:
    pass


def build(names, department=None):
    """A manager with a report per name, all owning one USD store (equal shares); November to the
    10th: sales 200 a day, ad spend 60 and ad sales 200 a day (ACoS 0.3, threshold 0.28: at risk)."""
    o = Org()
    o.shop = store(code=f"P-{len(names)}")
    o.dept, pos = department or DepartmentFactory(), PositionFactory()
    o.hr = HRFactory(department=o.dept)
    o.boss = UserFactory(department=o.dept, position=None)
    o.people = [UserFactory(department=o.dept, position=pos, manager=o.boss, name=name) for name in names]
    share = D(100) / len(names)
    db.session.add_all([StoreOwner(store=o.shop, person=p, share_pct=share) for p in o.people])
    db.session.flush()
    services.create_template(o.hr, code=f"pace-{len(names)}", name="Pace", items=ITEMS, position_id=pos.id)
    o.cycle = services.create_cycle(o.hr, name=f"Nov {len(names)}", kind="monthly", period_start=START,
                                    period_end=END, participants=[{"position_id": pos.id}])
    services.start_cycle(o.cycle.id, o.hr.id)
    record = ImportRecord(filename="gen.csv", sha256=f"{o.shop.id:064d}", size=1, dedupe_key=f"pd-{o.shop.id}",
                          store_id=o.shop.id, status="committed")
    db.session.add(record)
    db.session.flush()
    day = START
    while day <= TODAY:
        for measure, value, family in (("ordered_sales", "200", "amazon_orders"), ("ad_spend", "60", "amazon_ads"),
                                       ("ad_sales", "200", "amazon_ads")):
            db.session.add(MetricFact(store_id=o.shop.id, family=family, business_date=day, period_end=day,
                                      sku="", ref="", measure=measure, value=D(value), currency="USD",
                                      import_id=record.id))
        day += timedelta(days=1)
    db.session.flush()
    tracking.recompute_cycle(o.cycle.id, today=TODAY)
    o.cards = {c.person_id: c for c in db.session.query(Scorecard).filter_by(cycle_id=o.cycle.id)}
    return o


def relax_acos(org, person):
    """This person's ACoS threshold moves to 0.35: 0.3 is no longer at risk."""
    item = next(i for i in org.cards[person.id].items if i.metric_key == "acos")
    services.update_items(org.cards[person.id], person, {item.id: {"threshold": "0.35"}})
    db.session.commit()


@pytest.fixture
def org(app):
    o = build(["Amy", "Zed"])  # Amy is on pace, Zed has ACoS at risk
    relax_acos(o, o.people[0])
    db.session.commit()
    return o


def test_person_dashboard_shows_pace_projection_and_lines(org, app):
    amy, zed = org.people
    page = signed_in_client(app, org.boss).get(f"/dashboards/person/{zed.id}?cycle={org.cycle.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    money = lambda v: presentation.in_unit(D(v), "money", "en", "USD")  # noqa: E731
    # GMV: half of 200 a day for 10 of 30 days: 1,000 to date, 1,000 expected, forecast 3,000
    assert f"<td>{money('1000')}</td><td>{money('1000')}</td><td>{money('3000')}</td>" in html
    # ACoS 30% to date against a 25% target and a 28% threshold: at risk; unchanged since last week
    assert ("<td>30.0%</td><td>25.0%</td><td>30.0%</td><td>25.0%</td><td>28.0%</td><td>At risk</td>"
            "<td>30.0%</td><td>0.0%</td>") in html
    # a week before: 3 days of sales (300), moved 700
    assert f"<td>{money('300')}</td><td>+{money('700')}</td>" in html
    assert html.count("data-chart-spec") == 2  # a pace line per metric item, each with its table
    assert "2026-11-10" in html and "Projected score" in html
    for item in (i for i in org.cards[zed.id].items if i.metric_key):  # each number opens its rows
        assert f'<a href="/provenance/items/{item.id}">{item.name}</a>' in html
    csv = signed_in_client(app, org.boss).get(f"/dashboards/person/{zed.id}?cycle={org.cycle.id}"
                                              "&download=pace&format=csv").get_data().decode("utf-8-sig")
    gmv = next(line for line in csv.splitlines() if line.startswith("GMV"))
    assert gmv.split(",")[1:4] == ["1000", "1000", "3000"]  # numbers a spreadsheet can sum, not text


def test_who_may_open_a_person_dashboard(org, app):
    amy, zed = org.people
    stranger = UserFactory()
    url = f"/dashboards/person/{zed.id}"
    assert signed_in_client(app, zed).get(url).status_code == 200
    assert signed_in_client(app, zed).get("/dashboards/person").status_code == 200
    assert signed_in_client(app, org.hr).get(url).status_code == 200
    assert signed_in_client(app, amy).get(url).status_code == 404  # a colleague
    assert signed_in_client(app, stranger).get(url).status_code == 404
    assert signed_in_client(app, ClientUserFactory()).get(url).status_code == 403


def test_team_dashboard_lists_at_risk_first_and_links_to_people(org, app):
    amy, zed = org.people
    client = signed_in_client(app, org.boss)
    html = client.get(f"/dashboards/team?cycle={org.cycle.id}").get_data(as_text=True)
    assert html.index(">Zed</a>") < html.index(">Amy</a>")  # at risk before the alphabet
    assert f'href="/dashboards/person/{zed.id}?cycle={org.cycle.id}"' in html
    assert "2 scorecards; 1 with items at risk." in html
    download = client.get(f"/dashboards/team?cycle={org.cycle.id}&download=at_risk&format=csv")
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows == [["Person", "KPI item", "Actual to date", "Expected to date", "Forecast at period end",
                     "Threshold"], ["Zed", "ACoS", "30.0%", "25.0%", "30.0%", "28.0%"]]
    people = list(csv.reader(io.StringIO(client.get(
        f"/dashboards/team?cycle={org.cycle.id}&download=people&format=csv").data.decode("utf-8-sig"))))
    assert [r[0] for r in people[1:]] == ["Zed", "Amy"] and people[1][-1] == "ACoS"


def test_team_dashboard_is_for_people_with_reports(org, app):
    assert signed_in_client(app, org.people[0]).get("/dashboards/team").status_code == 404
    assert signed_in_client(app, org.hr).get("/dashboards/team").status_code == 200


def test_dashboards_in_chinese(org, app):
    org.boss.locale = "zh_CN"
    db.session.commit()
    html = signed_in_client(app, org.boss).get(f"/dashboards/team?cycle={org.cycle.id}").get_data(as_text=True)
    assert "团队进度" in html and "有风险的考核指标" in html
    html = signed_in_client(app, org.boss).get(f"/dashboards/person/{org.people[1].id}").get_data(as_text=True)
    assert "有风险" in html and "应达进度" in html


def test_team_dashboard_pages_by_keyset(app):
    o = build([f"P{n:03d}" for n in range(60)])
    client = signed_in_client(app, o.boss)
    first = client.get(f"/dashboards/team?cycle={o.cycle.id}").get_data(as_text=True)
    assert ">P049</a>" in first and ">P050</a>" not in first
    last = o.cards[o.people[49].id].id
    assert f'href="/dashboards/team?after={last}&amp;cycle={o.cycle.id}"' in first
    second = client.get(f"/dashboards/team?after={last}&cycle={o.cycle.id}").get_data(as_text=True)
    assert ">P050</a>" in second and ">P059</a>" in second and ">P049</a>" not in second


def count(client, path):
    client.get(path)  # warm
    with QueryCounter(db.engines[None]) as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_queries_do_not_grow_from_20_to_200_people(app):
    small = build([f"S{n:03d}" for n in range(20)])
    large = build([f"L{n:03d}" for n in range(200)])
    counts = []
    for o in (small, large):
        client, hr, own = (signed_in_client(app, who) for who in (o.boss, o.hr, o.people[0]))
        counts.append((count(client, f"/dashboards/team?cycle={o.cycle.id}"),
                       count(client, f"/dashboards/person/{o.people[0].id}?cycle={o.cycle.id}"),
                       count(hr, f"/dashboards/team?cycle={o.cycle.id}"),  # HR: everyone in the company
                       count(own, f"/dashboards/person?cycle={o.cycle.id}"),  # one's own page
                       count(own, "/dashboards/")))
    assert counts[0] == counts[1], counts


def test_moved_since_last_week_counts_from_the_last_day_with_data(org, app, monkeypatch):
    monkeypatch.setattr("kpiapp.dashboards.routes.person.utc_today", lambda: date(2026, 11, 20))
    html = signed_in_client(app, org.boss).get(f"/dashboards/person/{org.people[1].id}").get_data(as_text=True)
    money = lambda v: presentation.in_unit(D(v), "money", "en", "USD")  # noqa: E731
    # data ends on the 10th: a week before that is the 3rd (300), not the 13th
    assert f"<td>{money('300')}</td><td>+{money('700')}</td>" in html


# ---- the team dashboard's order, pages and counts against the Python rule -------------------

# three groups by items at risk (GMV and ACoS: 2, ACoS only: 1, none: 0); names whose code point
# order differs from a locale's (É after Z, lower case after upper case, CJK after Latin),
# duplicates (the card id decides), and the first page ending between two cards of the same
# name and count (positions 50 and 51 are both "Zoë" without items at risk)
TWO_AT_RISK = ["张伟", "李雷", "Émile", "Zoe", "zoe", "Ärne", "Bob", "bob", "王芳", "Ω", "Álvaro", "Zed", "Amy",
               "李雷", "Ömer", "Zoe", "Ωmega", "张伟", "Émile", "amy", "Bob", "ß", "Ｚ", "Z", "Ζ"]
ONE_AT_RISK = ["Zed", "Émile", "李雷", "amy", "Amy", "王芳", "zoe", "Zoe", "Ärne", "Bob", "Ω", "张三", "Ann",
               "ann", "Ánn", "Zoe", "王芳", "Ｂ", "b", "B"]
NONE_AT_RISK = ["Émile", "Amy", "王芳", "Bob"] + ["Zoë"] * 8 + ["Zoe", "Zoë", "Zo", "Zoëy"]


def relax(org, person, keys):
    card = org.cards[person.id]
    changes = {item.id: {"threshold": "0" if item.metric_key == "gmv" else "0.35"}
               for item in card.items if item.metric_key in keys}
    services.update_items(card, person, changes)


def python_order(org):
    """[(card, at-risk item names by seq)] in the old Python rule's order: at-risk items desc
    (each item paced in Python, `pace.pace`), name by code point, card id."""
    risky = {item.id for item, p in paced_items([i for c in org.cards.values() for i in c.items], TODAY)
             if p.at_risk}
    cards = [(card, [i.name for i in sorted(card.items, key=lambda i: i.seq) if i.id in risky])
             for card in org.cards.values()]
    return sorted(cards, key=lambda c: (-len(c[1]), c[0].person.name, c[0].id))


def csv_rows(client, path):
    return list(csv.reader(io.StringIO(client.get(path).data.decode("utf-8-sig"))))[1:]


@pytest.fixture
def named_org(app):
    o = build(TWO_AT_RISK + ONE_AT_RISK + NONE_AT_RISK)
    for n, person in enumerate(o.people):
        if n >= len(TWO_AT_RISK):
            relax(o, person, {"gmv"} if n < len(TWO_AT_RISK) + len(ONE_AT_RISK) else {"gmv", "acos"})
    db.session.commit()
    return o


def test_team_dashboard_orders_pages_and_counts_as_the_python_rule(named_org, app):
    o = named_org
    expected = python_order(o)
    assert [len(risks) for _c, risks in expected].count(2) == len(TWO_AT_RISK)
    assert [c.person.name for c, _r in expected[49:51]] == ["Zoë", "Zoë"]  # the page ends inside a tie
    client = signed_in_client(app, o.boss)
    url, pages = f"/dashboards/team?cycle={o.cycle.id}", []
    while url:
        html = client.get(url).get_data(as_text=True)
        at_risk = len(TWO_AT_RISK) + len(ONE_AT_RISK)
        assert f"{len(expected)} scorecards; {at_risk} with items at risk." in html
        pages.append(csv_rows(client, url + "&download=people&format=csv"))
        found = re.search(r'href="(/dashboards/team\?after=\d+[^"]*)"', html)
        url = found and found.group(1).replace("&amp;", "&")
    assert [len(page) for page in pages] == [50, len(expected) - 50]
    assert [(row[0], row[-1]) for page in pages for row in page] == \
        [(card.person.name, ", ".join(risks) or "") for card, risks in expected]
    at_risk = csv_rows(client, f"/dashboards/team?cycle={o.cycle.id}&download=at_risk&format=csv")
    assert [row[:2] for row in at_risk] == [[card.person.name, name] for card, risks in expected
                                            for name in risks][:50]
    total = 2 * len(TWO_AT_RISK) + len(ONE_AT_RISK)
    assert f"The first 50 of {total} items at risk." in client.get(f"/dashboards/team?cycle={o.cycle.id}") \
        .get_data(as_text=True)


def test_team_dashboard_pages_after_each_card(named_org, app):
    """A page starts right after the card named by `after`, whichever card that is (ties in
    count and name included); after a card not in the team, from the start."""
    o = named_org
    expected = [card for card, _r in python_order(o)]
    client = signed_in_client(app, o.boss)
    base = f"/dashboards/team?cycle={o.cycle.id}&download=people&format=csv"
    for n in (0, 12, 44, 49, 50, len(expected) - 2, len(expected) - 1):
        rows = csv_rows(client, f"{base}&after={expected[n].id}")
        assert [row[0] for row in rows] == [c.person.name for c in expected[n + 1:n + 51]], n
    assert [row[0] for row in csv_rows(client, f"{base}&after=0")] == [c.person.name for c in expected[:50]]


def test_names_order_by_code_point_whatever_their_collation(app):
    """A name column with a collation of its own (PostgreSQL: ICU "und", É beside E, zoe beside
    Zoe; SQLite: NOCASE) still orders by code point, as Python compares str (the test database's
    defaults, C.UTF-8 and BINARY, would not tell)."""
    names = TWO_AT_RISK + ONE_AT_RISK + NONE_AT_RISK
    if db.engine.dialect.name == "postgresql":
        named = text('SELECT n COLLATE "und-x-icu" AS name FROM unnest(CAST(:names AS text[])) AS t(n)') \
            .bindparams(names=names)
    else:
        named = text("SELECT value COLLATE NOCASE AS name FROM json_each(:names)").bindparams(names=json.dumps(names))
    column = named.columns(name=String).subquery("named").c.name
    by_locale = db.session.execute(select(column).order_by(column)).scalars().all()
    assert by_locale != sorted(names)
    by_code_point = db.session.execute(select(column).order_by(code_point_order(column))).scalars().all()
    assert by_code_point == sorted(names)


def test_the_page_cards_read_as_orm_scorecards(org, app):
    """The team panel's cards are plain rows (team.load_cards), read by progress.standing and
    progress.projected as they read a Scorecard: in every state, the people panel, whose move,
    the deadline and the return reason are those of the ORM scorecards (a returned card with
    two events, a person without a department, points on an item, overdue and future deadlines)."""
    from kpiapp.appraisal.progress import projected, standing
    from kpiapp.appraisal.workflow import Action, ScorecardState
    from kpiapp.dashboards import team
    from kpiapp.models import ScorecardEvent, User

    amy, zed = org.people
    cards = [org.cards[amy.id], org.cards[zed.id]]
    ids = [card.id for card in cards]
    db.session.execute(text('UPDATE "user" SET department_id = NULL WHERE id = :id'), {"id": zed.id})
    db.session.execute(text("UPDATE scorecard_item SET computed_points = 80 WHERE id = :id"),
                       {"id": cards[0].items[0].id})
    for field, days in (("targets_due", -3), ("approval_due", 4), ("self_review_due", -1),
                        ("manager_review_due", 9), ("calibration_due", 0)):
        setattr(org.cycle, field, TODAY + timedelta(days=days))
    for n, reason in enumerate(("first", "sent back: fix the GMV target")):
        db.session.add(ScorecardEvent(scorecard_id=cards[1].id, action=Action.RETURN_, old_state="submitted",
                                      new_state="returned", actor_id=org.boss.id, reason=reason))
    db.session.commit()
    flagged = {cards[1].items[0].id}
    for state in ScorecardState:
        db.session.execute(text("UPDATE scorecard SET state = :state WHERE id IN (:a, :b)"),
                           {"state": state.value, "a": ids[0], "b": ids[1]})
        db.session.expire_all()
        orm = db.session.execute(select(Scorecard).where(Scorecard.id.in_(ids))
                                 .order_by(Scorecard.id)).scalars().all()
        rows = team.load_cards(ids, org.cycle)
        with app.test_request_context():
            assert team.people_panel(rows, flagged, TODAY, "en").rows == \
                team.people_panel(orm, flagged, TODAY, "en").rows, state
        for row, card in zip(rows, orm):
            assert same_standing(standing(row, TODAY), standing(card, TODAY)), state
            assert projected(row) == projected(card), state
        if state == ScorecardState.RETURNED:
            assert standing(rows[1], TODAY).return_reason == "sent back: fix the GMV target"
    assert projected(rows[0]) is None and projected(orm[0]) is None  # locked last


def same_standing(a, b):
    """Standing compares its card too: the same stage, actor, deadline, overdue, to-do and reason."""
    def seen(s):
        person = s.next_person and s.next_person.name
        return s.stage, s.next_actor, s.due, s.overdue, s.todo, s.return_reason, person

    return seen(a) == seen(b)
