"""Issue 10, the team dashboard at 5,000 people: the items' direction as a generated column
(kept by the database on every write of the rule), the card index covering the at-risk rule
(PostgreSQL), and the reporting line walked once a request (policy.line_select)."""
import json
import re
from decimal import Decimal as D

import pytest
from sqlalchemy import event, select, text, update

from kpiapp import policy
from kpiapp.extensions import db
from kpiapp.models import ScorecardItem, User
from kpiapp.models.appraisal import AT_RISK_COLUMNS, POINTS_COLUMNS
from kpiapp.tracking import services as tracking
from tests.factories import UserFactory
from tests.helpers import signed_in_client
from tests.web.test_pace_dashboards import TODAY, build, fixed_today  # noqa: F401 (fixture)

pytestmark = pytest.mark.rollback

DIRECTION = ScorecardItem.__table__.c.direction


def directions(items):
    """{item id: (the direction column, the rule's direction)} as the database has them."""
    rows = db.session.execute(select(ScorecardItem.id, DIRECTION, ScorecardItem.rule)
                              .where(ScorecardItem.id.in_([i.id for i in items]))).all()
    return {item_id: (column, (rule or {}).get("direction")) for item_id, column, rule in rows}


def assert_in_sync(items):
    found = directions(items)
    assert len(found) == len(items)
    assert all(column == from_rule for column, from_rule in found.values()), found


def test_the_direction_column_follows_the_rule_on_every_write_path(app):
    org = build(["Ann", "Bob"])
    items = [item for card in org.cards.values() for item in card.items]
    # written by the ORM when the cycle started (scorecards from the template)
    assert_in_sync(items)
    assert {column for column, _rule in directions(items).values()} >= {"higher_better", "lower_better"}
    gmv, acos = (next(i for i in items if i.metric_key == key) for key in ("gmv", "acos"))
    # the ORM changes the rule
    gmv.rule = {**gmv.rule, "direction": "lower_better"}
    db.session.flush()
    assert directions([gmv])[gmv.id] == ("lower_better", "lower_better")
    # a rule without a direction: none
    gmv.rule = {key: value for key, value in gmv.rule.items() if key != "direction"}
    db.session.flush()
    assert directions([gmv])[gmv.id] == (None, None)
    # a bulk UPDATE and raw SQL
    db.session.execute(update(ScorecardItem).where(ScorecardItem.id == acos.id)
                       .values(rule={**acos.rule, "direction": "higher_better"}))
    assert directions([acos])[acos.id] == ("higher_better", "higher_better")
    db.session.execute(text("UPDATE scorecard_item SET rule = :rule WHERE id = :id"),
                       {"rule": json.dumps({"kind": "linear", "direction": "lower_better"}), "id": acos.id})
    assert directions([acos])[acos.id] == ("lower_better", "lower_better")
    # the recompute's bulk UPDATE of actuals leaves it as the rule says
    tracking.recompute_cycle(org.cycle.id, today=TODAY)
    db.session.expire_all()
    assert_in_sync(items)


def test_the_orm_never_loads_or_writes_the_direction(app):
    assert "direction" not in ScorecardItem.__mapper__.attrs.keys()
    assert "direction" in ScorecardItem.__table__.c


def test_the_card_index_covers_the_at_risk_rule_on_postgresql(app):
    """PostgreSQL: the card index INCLUDEs what the rule reads (and, since 0031, the points and
    weight the company dashboard's attainment reads); SQLite (no INCLUDE) keeps it plain."""
    if db.engine.dialect.name == "postgresql":
        definition = db.session.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                             "'ix_scorecard_item_scorecard_id'")).scalar_one()
        assert definition.endswith(f"(scorecard_id) INCLUDE ({', '.join(AT_RISK_COLUMNS + POINTS_COLUMNS)})")
    else:
        columns = db.session.execute(text("PRAGMA index_info('ix_scorecard_item_scorecard_id')")).all()
        assert [row[2] for row in columns] == ["scorecard_id"]


class Statements:
    def __init__(self):
        self.seen = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self.record)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self.record)

    def record(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)


def test_a_team_dashboard_walks_the_line_once(app):
    org = build(["Ann", "Bob", "Cid"])
    client = signed_in_client(app, org.boss)
    with Statements() as statements:
        page = client.get(f"/dashboards/team?cycle={org.cycle.id}")
    assert page.status_code == 200 and "Ann" in page.get_data(as_text=True)
    # the walk down the line (policy.team_select: managed by someone found so far); the page's
    # 50 people's managers up their lines (load_reporting_lines) are another walk
    walks = [s for s in statements.seen if re.search(r'\bmanager_id = anon_', s)]
    assert len(walks) == 1, walks


def line(user):
    return set(db.session.execute(policy.line_select(user)).scalars())


def test_the_line_is_fresh_after_a_flush_that_moves_someone(app):
    org = build(["Ann", "Bob"])
    ann, bob = org.people
    with app.test_request_context("/"):
        assert line(org.boss) == {ann.id, bob.id}
        assert line(ann) == set()
        bob.manager = ann
        db.session.flush()
        assert line(ann) == {bob.id}
        newcomer = UserFactory(department=org.dept, manager=org.boss)
        db.session.flush()
        assert line(org.boss) == {ann.id, bob.id, newcomer.id}


def test_each_request_and_each_call_outside_one_walks_anew(app):
    org = build(["Ann", "Bob"])
    ann, bob = org.people
    with app.test_request_context("/"):
        assert line(ann) == set()
    # a write the session never flushes as a person (raw SQL): a new request still sees it
    db.session.execute(text('UPDATE "user" SET manager_id = :ann WHERE id = :bob'),
                       {"ann": ann.id, "bob": bob.id})
    db.session.expire_all()
    with app.test_request_context("/"):
        assert line(ann) == {bob.id}
    # outside a request: the walk itself, nothing remembered
    assert "RECURSIVE" in str(policy.line_select(ann)).upper()
    db.session.execute(text('UPDATE "user" SET manager_id = :boss WHERE id = :bob'),
                       {"boss": org.boss.id, "bob": bob.id})
    assert line(ann) == set()


def test_the_filters_narrow_alike_with_the_remembered_line(app):
    """The same people, stores and departments in a request (ids as one parameter) as outside
    one (the recursive walk)."""
    org = build(["Ann", "Bob"])
    outsider = UserFactory()

    def visible():
        def of(user):
            people = select(User.id).where(policy.visible_people_filter(user))
            return set(db.session.execute(people).scalars())

        return of(org.boss), of(outsider)

    outside = visible()
    with app.test_request_context("/"):
        inside = visible()
    assert inside == outside == ({org.boss.id, *(p.id for p in org.people)}, {outsider.id})


def test_sql_at_risk_equals_the_python_pace_at_every_data_time_boundary(app):
    """The at-risk rule's data day (PostgreSQL: timestamps against the days' UTC midnights and
    whole days of their difference; SQLite: UTC days) against the Python pace, for data times
    either side of the period's first midnight, within a day, and either side of today's."""
    from datetime import datetime, timedelta, timezone

    from kpiapp.appraisal.queries import latest_only
    from kpiapp.models import Scorecard
    from kpiapp.tracking.paces import paced_items
    from kpiapp.tracking.risk import item_risks
    from tests.web.test_pace_dashboards import START

    org = build(["Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal"])
    cards = latest_only(select(Scorecard.id).where(Scorecard.cycle_id == org.cycle.id))
    items = [item for card in org.cards.values() for item in card.items if item.metric_key]
    midnight = datetime.combine(START, datetime.min.time(), timezone.utc)
    times = [None, midnight - timedelta(days=1), midnight - timedelta(seconds=1), midnight,
             midnight + timedelta(hours=23, minutes=59, seconds=59), midnight + timedelta(days=4, hours=12),
             midnight + timedelta(days=8, hours=23, minutes=59, seconds=59), midnight + timedelta(days=9),
             midnight + timedelta(days=9, seconds=1), midnight + timedelta(days=30)]
    for n, item in enumerate(items):
        item.data_as_of = times[n % len(times)]
        item.actual = {"gmv": D(600) + n * 37, "acos": D("0.27") + D(n % 5) / 100}[item.metric_key]
    db.session.flush()
    todays = (START - timedelta(days=1), START, START + timedelta(days=4), TODAY, START + timedelta(days=40))
    for today in todays:
        sql = {row.item_id for row in db.session.execute(item_risks(cards, org.cycle, today)) if row.at_risk}
        python = {item.id for item, pace in paced_items([i.id for i in items], today) if pace.at_risk}
        assert sql == python, today
        if today == TODAY:
            assert sql and sql != {i.id for i in items}
