"""`kpi seed-scale`: a consistent synthetic organisation, the same for the same seed (issue 10)."""
from collections import Counter
from datetime import date

from sqlalchemy import func, select, text

from kpiapp.app import create_app
from kpiapp.appraisal.workflow import ScorecardState
from kpiapp.audit import SYSTEM, acting_as, verify_chain
from kpiapp.demo import scale
from kpiapp.extensions import db
from kpiapp.models import (Department, FxRate, ImportRecord, MetricFact, Scorecard, ScorecardItem, Store,
                           StoreOwner, User)
from tests.conftest import cloned, make_config

PEOPLE, FACTS = 30, 4_000  # 4 teams (8, 8, 8, 6) in one division, 8 stores
TODAY = date(2026, 11, 26)


def count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def fingerprint():
    """What the seed decides, by natural keys (ids and hashes left out)."""
    owners = db.session.execute(
        select(User.email, Store.code, StoreOwner.share_pct).join(StoreOwner.person).join(StoreOwner.store)
        .order_by(User.email, Store.code)).all()
    facts = db.session.execute(
        select(Store.code, MetricFact.business_date, MetricFact.sku, MetricFact.measure, MetricFact.value)
        .join(Store, Store.id == MetricFact.store_id)
        .order_by(Store.code, MetricFact.business_date, MetricFact.sku, MetricFact.measure)).all()
    states = db.session.execute(select(User.email, Scorecard.state).join(Scorecard.person)
                                .order_by(User.email)).all()
    return owners, facts, states


def seeded(template_db, directory, name, seed):
    with cloned(template_db, directory, name) as uri:
        app = create_app(make_config(uri, directory))
        with app.app_context(), acting_as(SYSTEM):
            org = scale.seed_scale(PEOPLE, FACTS, seed=seed, today=TODAY, per_state=1)
            try:
                yield org
            finally:
                db.session.remove()
                db.engine.dispose()


def test_seed_scale_builds_a_consistent_org(template_db, tmp_path):
    for org in seeded(template_db, tmp_path, "kpi_scale_a", 7):
        assert (org.people, org.teams, org.stores, org.facts) == (PEOPLE, 4, 8, FACTS)
        employees = count(User, User.position_id.isnot(None))
        assert employees == PEOPLE and count(User) == PEOPLE + 4 + 1 + 3  # managers, a head, gm/hr/admin
        assert count(Department) == 1 + 1 + 4
        assert all(user.manager is not None for user in db.session.query(User) if user.position_id)
        assert count(Scorecard) == PEOPLE and count(ScorecardItem) == PEOPLE * len(scale.KEYS)
        assert set(org.states) == set(ScorecardState) and sum(org.states.values()) == PEOPLE
        assert Counter(org.states.values()) == Counter({1: 8, PEOPLE - 8: 1})
        assert count(MetricFact) == FACTS == sum(r.facts_written for r in db.session.query(ImportRecord))
        per_store = db.session.execute(select(MetricFact.store_id, func.count(), func.count(
            MetricFact.business_date.distinct())).group_by(MetricFact.store_id)).all()
        assert len(per_store) == 8 and {n for _, n, _ in per_store} == {FACTS // 8}
        assert {days for _, _, days in per_store} == {scale.DAYS}
        assert count(FxRate) == scale.DAYS
        if db.engine.dialect.name == "postgresql":
            by_partition = facts_by_partition()
            assert set(by_partition) == {"metric_fact_2026_09", "metric_fact_2026_10", "metric_fact_2026_11"}
            assert sum(by_partition.values()) == FACTS
        assert {len(items) for items in owners_by_person().values()} <= {1, 2, 3}
        locked = db.session.query(Scorecard).filter_by(state=ScorecardState.LOCKED).one()
        assert locked.total is not None and all(i.actual is not None for i in locked.items)
        assert verify_chain(db.session).ok
        first = fingerprint()
    for _ in seeded(template_db, tmp_path, "kpi_scale_b", 7):
        assert fingerprint() == first
    for _ in seeded(template_db, tmp_path, "kpi_scale_c", 8):
        assert fingerprint()[1] != first[1]


def facts_by_partition():
    """PostgreSQL: facts per partition holding any (the seed makes its months, as imports do:
    DEFAULT stays empty)."""
    rows = db.session.execute(text("SELECT tableoid::regclass::text, count(*) FROM metric_fact GROUP BY 1"))
    return {table.rsplit(".", 1)[-1]: n for table, n in rows}


def owners_by_person():
    owned = {}
    for person, store in db.session.execute(select(StoreOwner.person_id, StoreOwner.store_id)):
        owned.setdefault(person, []).append(store)
    return owned


def test_seed_scale_command_refuses_a_database_with_people(app):
    from tests.factories import UserFactory

    UserFactory()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["kpi", "seed-scale", "--people", "3", "--facts", "10"])
    assert result.exit_code == 1 and "empty" in result.output


def test_seed_scale_command_loads_an_empty_database(app):
    args = ["kpi", "seed-scale", "--people", "9", "--facts", "200", "--per-state", "1"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "9 people in 2 teams, 4 stores, 200 facts" in result.output and "locked 1" in result.output
    assert count(MetricFact) == 200 and count(Scorecard) == 9
