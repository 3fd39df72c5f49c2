"""A synthetic organisation of any size for load tests (issue 10):
`flask --app wsgi kpi seed-scale --people N --facts M [--seed S]`.

Built through the real models and appraisal services on an EMPTY database: a root
department with divisions of TEAMS_PER_DIVISION teams; each team is a department of
TEAM people under a manager, the managers under their division head, the heads under
the GM; two stores per team (a quarter in EUR), each team owning 1-3 of them with one
share; one template of 8 metric KPIs and a running cycle (HR approval on) with one
scorecard per person, `per_state` of them walked through the workflow services into
every state; one committed import per store and M SKU-level facts in all, spread over
the stores, the 8 measures and the DAYS days elapsed, plus daily EUR rates. Facts go
in with COPY on PostgreSQL (through the table name, so a partitioned metric_fact takes
them too), with bulk INSERTs elsewhere; their month partitions are made first, as an
import makes them (metrics/partitions.py), so no fact lands in the DEFAULT partition.
The same seed gives the same organisation.
Logins: gm@, hr@, admin@, m<team>@ (managers), p<n>@ (people) at DOMAIN, DEMO_PASSWORD.
"""
import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select, text

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.auth.passwords import hash_password
from kpiapp.demo import DEMO_PASSWORD
from kpiapp.extensions import db
from kpiapp.metrics import fact_day, partitions
from kpiapp.models import (Department, FxRate, ImportRecord, MetricFact, Position, Role, Scorecard, Store,
                           StoreOwner, User)
from kpiapp.models.metrics import ImportStatus
from kpiapp.tracking import services as tracking

DOMAIN = "scale.kpiapp.org"
TEAM = 8
TEAMS_PER_DIVISION = 10
DAYS = 60
KEYS = ["acos", "cvr", "gmv", "tacos", "refund_rate", "ctr", "roas", "units"]
LOWER_BETTER = {"acos", "tacos", "refund_rate"}
MEASURES = ["ad_spend", "ad_sales", "ad_clicks", "ad_impressions", "ordered_sales", "units_ordered",
            "sessions", "units_refunded"]
MONEY = {"ad_spend", "ad_sales", "ordered_sales"}
SHARES = ["100", "50", "25", "40"]
FACT_COLUMNS = ("store_id", "family", "business_date", "period_end", "sku", "ref", "measure", "value",
                "currency", "import_id", "source_line")
FAMILY = "amazon_ads"
# the order a scorecard walks through (the cycle needs HR approval, so every state is reachable)
WALK = [S.DRAFT, S.RETURNED, S.SUBMITTED, S.HR_APPROVAL, S.APPROVED, S.SELF_REVIEW, S.MANAGER_REVIEW,
        S.CALIBRATION, S.LOCKED]


@dataclass
class Staff:
    gm: User
    hr: User
    admin: User
    root: Department
    position: Position
    password: str


@dataclass
class ScaleOrg:
    cycle_id: int
    people: int
    teams: int
    stores: int
    facts: int
    states: dict  # ScorecardState -> scorecards


def email_of(login):
    return f"{login}@{DOMAIN}"


def seed_scale(people, facts, seed=2026, today=None, per_state=None):
    """Build the organisation (commits); returns a ScaleOrg summary."""
    rng, today = random.Random(seed), today or tracking.utc_today()
    start = today - timedelta(days=DAYS - 1)
    # as imports do, so no fact lands in DEFAULT; first, as it commits (expiring loaded objects)
    partitions.ensure_month_partitions(db.session, start, today)
    staff = seed_staff()
    teams = seed_teams(people, staff)
    stores = seed_stores(len(teams) * 2)
    own_stores(teams, stores, rng)
    cycle = seed_cycle(staff, start)
    records = seed_imports(stores, staff.hr, start, today)
    written = load_facts(stores, records, facts, start, rng)
    fact_day.rebuild(db.session.connection())  # COPY wrote metric_fact directly: its day sums
    db.session.add_all(FxRate(date=start + timedelta(days=d), currency="EUR", rate=Decimal("1.08"))
                       for d in range(DAYS))
    db.session.commit()
    per_state = per_state if per_state is not None else max(1, people // 100)
    walk_states(cycle.id, teams, staff, per_state, today)
    analyze()
    return ScaleOrg(cycle.id, people, len(teams), len(stores), written, state_counts(cycle.id))


def analyze():
    """Planner statistics for the fresh bulk load (PostgreSQL), as autovacuum would gather them
    in production: without them every table looks empty and anti-joins go quadratic."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def user(login, name, password, **fields):
    return User(email=email_of(login), name=name, locale="en", password_hash=password, **fields)


def seed_staff():
    password = hash_password(DEMO_PASSWORD)
    root = Department(name="Scale Co")
    position = Position(title="Scale operations specialist")
    gm = user("gm", "Scale GM", password, department=root)
    hr = user("hr", "Scale HR", password, department=root, role=Role.hr, manager=gm)
    admin = user("admin", "Scale Admin", password, department=root, role=Role.admin, manager=gm)
    db.session.add_all([root, position, gm, hr, admin])
    db.session.flush()
    return Staff(gm, hr, admin, root, position, password)


def seed_teams(people, staff):
    """[(manager, [members])]: teams of TEAM people under a manager, in divisions under a head."""
    teams, heads = [], {}
    for number, first in enumerate(range(0, people, TEAM), 1):
        division = (number - 1) // TEAMS_PER_DIVISION + 1
        if division not in heads:
            department = Department(name=f"Division {division:03d}", parent=staff.root)
            heads[division] = user(f"d{division:03d}", f"Head {division:03d}", staff.password,
                                   department=department, manager=staff.gm)
        head = heads[division]
        department = Department(name=f"Team {number:04d}", parent=head.department)
        manager = user(f"m{number:04d}", f"Manager {number:04d}", staff.password, department=department,
                       manager=head)
        members = [user(f"p{n:05d}", f"Person {n:05d}", staff.password, department=department,
                        position=staff.position, manager=manager)
                   for n in range(first + 1, min(first + TEAM, people) + 1)]
        db.session.add_all([department, manager, *members])
        teams.append((manager, members))
    db.session.flush()
    return teams


def seed_stores(count):
    stores = [Store(code=f"SC-{n:05d}", name=f"Scale store {n:05d}", platform="amazon", marketplace="DE"
                    if n % 4 == 0 else "US", currency="EUR" if n % 4 == 0 else "USD",
                    timezone="UTC") for n in range(count)]
    db.session.add_all(stores)
    db.session.flush()
    return stores


def own_stores(teams, stores, rng):
    """Every member of a team owns the team's 1-3 stores with the same share."""
    for number, (_manager, members) in enumerate(teams):
        owned = rng.sample(stores, rng.randint(1, 3))
        share = Decimal(SHARES[number % len(SHARES)])
        db.session.add_all(StoreOwner(store=store, person=person, share_pct=share)
                           for person in members for store in owned)
    db.session.flush()


def template_items():
    return [{"kind": "metric", "metric_key": key, "name": key, "weight": "12.5",
             **dict(zip(("threshold", "target", "stretch"), "321" if key in LOWER_BETTER else "123")),
             "rule": {"kind": "linear", "cap": "120"}} for key in KEYS]


def seed_cycle(staff, start):
    services.create_template(staff.hr, code="scale", name="Scale", items=template_items(),
                             position_id=staff.position.id)
    cycle = services.create_cycle(staff.hr, name="Scale Q", kind="quarterly", period_start=start,
                                  period_end=start + timedelta(days=90), hr_approval_required=True,
                                  participants=[{"position_id": staff.position.id}])
    services.start_cycle(cycle.id, staff.hr.id)
    db.session.commit()
    return cycle


def seed_imports(stores, hr, start, today):
    """One committed import per store; its facts point at it."""
    records = [ImportRecord(parser=FAMILY, family=FAMILY, store_id=store.id, uploaded_by_id=hr.id,
                            filename=f"scale-{store.code}.csv", size=1, date_from=start, date_to=today,
                            sha256=hashlib.sha256(store.code.encode()).hexdigest(), dedupe_key=store.code,
                            status=ImportStatus.committed) for store in stores]
    db.session.add_all(records)
    db.session.flush()
    return records


def fact_rows(stores, records, facts, start, rng):
    """`facts` distinct fact tuples (FACT_COLUMNS order), store by store (the order of the
    natural-key index, which keeps COPY fast): each store gets its share of the facts,
    spread over the measures, the days and as many SKUs as needed."""
    days = [start + timedelta(days=d) for d in range(DAYS)]
    for store, record, count in zip(stores, records, facts_per_store(len(stores), facts)):
        for n in range(count):
            rest, measure = divmod(n, len(MEASURES))
            sku, day = divmod(rest, DAYS)
            name, cents = MEASURES[measure], rng.randint(1, 99999)
            currency = store.currency if name in MONEY else None
            yield (store.id, FAMILY, days[day], days[day], f"S{sku}", "", name,
                   f"{cents // 100}.{cents % 100:02d}", currency, record.id, 0)


def load_facts(stores, records, facts, start, rng):
    rows = fact_rows(stores, records, facts, start, rng)
    if db.session.get_bind().dialect.name == "postgresql":
        copy_facts(rows)
    else:
        insert_facts(rows)
    for record, count in zip(records, facts_per_store(len(stores), facts)):
        record.facts_written = record.rows_read = count
    return facts


def facts_per_store(stores, facts):
    return [facts // stores + (1 if n < facts % stores else 0) for n in range(stores)]


def copy_facts(rows):
    table = MetricFact.__table__.name
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(FACT_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_facts(rows, size=20_000):
    chunk = []
    for row in rows:
        chunk.append(dict(zip(FACT_COLUMNS, row), value=Decimal(row[7])))
        if len(chunk) == size:
            db.session.execute(insert(MetricFact), chunk)
            chunk = []
    if chunk:
        db.session.execute(insert(MetricFact), chunk)


# ---- every workflow state ------------------------------------------------------------------

def walk_states(cycle_id, teams, staff, per_state, today):
    """Walk per_state scorecards into each state of WALK (cards of one team land in different
    states) through the workflow services; commits each card."""
    managers = {person.id: manager for manager, members in teams for person in members}
    cards = db.session.execute(select(Scorecard).where(Scorecard.cycle_id == cycle_id)
                               .order_by(Scorecard.person_id)).scalars().all()
    for n, card in enumerate(cards[:per_state * len(WALK)]):
        walk(card, WALK[n % len(WALK)], managers[card.person_id], staff.hr, today)
        db.session.commit()


def walk(card, state, manager, hr, today):
    person = card.person
    if state == S.RETURNED:
        act(card, Action.SUBMIT, person)
        act(card, Action.RETURN_, manager, reason="Please sharpen the targets.")
        return
    steps = [
        (S.SUBMITTED, lambda: act(card, Action.SUBMIT, person)),
        (S.HR_APPROVAL, lambda: act(card, Action.APPROVE, manager)),
        (S.APPROVED, lambda: act(card, Action.HR_APPROVE, hr)),
        (S.SELF_REVIEW, lambda: tracking.recompute_scorecard(card.id, today)),  # actuals for the lock
        (S.SELF_REVIEW, lambda: act(card, Action.OPEN_REVIEW, hr)),
        (S.MANAGER_REVIEW, lambda: services.save_self_review(card, person, comment="A steady quarter.")),
        (S.MANAGER_REVIEW, lambda: act(card, Action.SUBMIT_SELF_REVIEW, person)),
        (S.CALIBRATION, lambda: services.save_manager_review(card, manager, comment="Agreed.")),
        (S.CALIBRATION, lambda: act(card, Action.SUBMIT_MANAGER_REVIEW, manager)),
        (S.LOCKED, lambda: act(card, Action.LOCK, hr)),
    ]
    for reached, step in steps:
        if WALK.index(reached) > WALK.index(state):
            return
        step()


def act(card, action, actor, reason=None):
    services.apply_action(card.id, action, actor, reason=reason)


def state_counts(cycle_id):
    rows = db.session.execute(select(Scorecard.state).where(Scorecard.cycle_id == cycle_id)).scalars()
    counts = {}
    for state in rows:
        counts[state] = counts.get(state, 0) + 1
    return counts
