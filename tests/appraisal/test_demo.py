"""The demo seed runs on the demo organisation and covers every state."""

from collections import Counter

from kpiapp import demo
from kpiapp.appraisal import notifications, services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.audit import verify_chain
from kpiapp.demo.appraisal import seed_appraisal_demo
from kpiapp.extensions import db
from kpiapp.bonus import services as bonus_services
from kpiapp.models import Acknowledgement, Cycle, Dispute, Scorecard, User


def test_demo_seed(app):
    demo.seed_organisation()  # the full seed_demo() adds marketplace data and reports (tests/tracking)
    result = seed_appraisal_demo()
    db.session.commit()
    q3 = db.session.query(Scorecard).filter_by(cycle_id=result["q3"]).all()
    q4 = db.session.query(Scorecard).filter_by(cycle_id=result["q4"]).all()
    assert all(c.state == S.LOCKED and c.grade for c in q3)
    assert (
        sum(c.version == 2 for c in q3) == 1
        and db.session.query(Acknowledgement).filter_by(objection=True).count()
    )
    states = Counter(c.state for c in q4)
    assert set(states) >= {
        S.DRAFT,
        S.RETURNED,
        S.SUBMITTED,
        S.APPROVED,
        S.SELF_REVIEW,
        S.MANAGER_REVIEW,
        S.CALIBRATION,
    }
    li_lei = db.session.query(User).filter_by(email=demo.email_of("li.lei")).one()
    assert any(c.state == S.SELF_REVIEW for c in notifications.inbox(li_lei).waiting)
    dispute = db.session.query(Dispute).one()  # the demo's open data dispute
    assert (dispute.status, dispute.raised_by_id) == ("open", li_lei.id)
    assert dispute.scorecard.cycle_id == result["q4"]
    distribution = services.cycle_distribution(result["q3"])
    assert distribution["graded"] == len({c.person_id for c in q3}) and distribution["violations"] == []
    q3_bonus = bonus_services.table(db.session.get(Cycle, result["q3"]))
    assert q3_bonus.frozen and q3_bonus.without_base == 0 and q3_bonus.budget < q3_bonus.total_amount
    assert q3_bonus.total_paid == q3_bonus.budget == sum(r.paid for r in q3_bonus.rows)
    assert verify_chain(db.session).ok
