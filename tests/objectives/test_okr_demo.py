"""The demo's objectives: a 2026 Q4 company objective with two department objectives, their
people's key results (one at risk), AMZ-DE's GMV target split between three people exactly,
check-ins of last week and this week, and a KPI item aligned to a key result."""
from decimal import Decimal

from sqlalchemy import select

from kpiapp import demo
from kpiapp.audit import SYSTEM, set_actor
from kpiapp.demo.objectives import seed_objectives_demo
from kpiapp.extensions import db
from kpiapp.models import CheckIn, KeyResult, ScorecardItem
from kpiapp.objectives import services as okr


def test_demo_objectives(marketplace_app):
    """On a copy of the organisation, appraisal and marketplace demo, seeded once (tests/demo_db.py)."""
    set_actor(SYSTEM)
    company, eu_team = seed_objectives_demo()
    assert company.title == "Grow European sales profitably" and company.rollup
    assert [c.title for c in company.children][:2] == ["Amazon EU: grow AMZ-DE and AMZ-UK",
                                                       "Advertising: profitable ad spend in Europe"]
    tree = okr.alignment_tree(company, demo_user("gm"))
    assert tree.at_risk and [c.at_risk for c in tree.children] == [False, True]
    de = next(kr for kr in eu_team.key_results if kr.title == "AMZ-DE GMV this quarter")
    assert de.current is not None and de.current > 0 and de.progress is not None
    children = db.session.execute(select(KeyResult).where(KeyResult.parent_kr_id == de.id)).scalars().all()
    assert len(children) == 3 and sum(Decimal(c.target) for c in children) == Decimal(de.target)
    assert db.session.query(CheckIn).count() >= 8
    aligned = db.session.execute(select(ScorecardItem).where(ScorecardItem.key_result_id == children[0].id)).scalars()
    assert [i.metric_key for i in aligned] == ["gmv"]
    assert company.progress is not None


def demo_user(login):
    from kpiapp.models import User

    return db.session.execute(select(User).where(User.email == demo.email_of(login))).scalar_one()
