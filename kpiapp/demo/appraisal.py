"""Demo appraisal data on top of the demo organisation (kpiapp/demo/__init__.py).

Stock templates on the demo positions, 2026 Q3 completed and locked (calibrated to
the grade quotas, one result reopened and re-locked, acknowledgements with one objection) and
2026 Q4 running with scorecards in every state.  Everything goes through the
services as the right people, so events, notifications and the audit log look
real.  Metric actuals are set directly with `set_actual` (the import pipeline
replaces them with computed values).  Deterministic: a fixed random seed.
"""
import random
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from kpiapp.appraisal import services
from kpiapp.appraisal.templates_stock import seed_stock_templates
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Department, Position, Scorecard, User

DEPARTMENTS = ("Operations", "Advertising", "Customer Service", "Supply Chain")
ORDER = [S.DRAFT, S.SUBMITTED, S.APPROVED, S.SELF_REVIEW, S.MANAGER_REVIEW, S.CALIBRATION, S.LOCKED]
# Q4: the state each demo login's scorecard is left in (everyone else: by rotation)
Q4_STATES = {
    "li.lei": S.SELF_REVIEW, "han.mei": S.SUBMITTED, "emma": S.MANAGER_REVIEW, "na.lead": S.CALIBRATION,
    "intern": S.APPROVED, "zhao.lei": S.RETURNED, "sato": S.DRAFT,
}
ROTATION = [S.DRAFT, S.SUBMITTED, S.APPROVED, S.SELF_REVIEW, S.MANAGER_REVIEW, S.CALIBRATION]
# Q4 GMV targets raised above the template's by the owners of AMZ-DE and AMZ-UK, so the demo's
# data (to 26 Nov) puts them behind pace: at risk on the dashboards (docs/pace.md)
Q4_GMV_RAISED = {
    "zhao.lei": {"threshold": "120000", "target": "140000", "stretch": "160000"},  # AMZ-DE 60%
    "eu.lead": {"threshold": "95000", "target": "120000", "stretch": "140000"},  # AMZ-UK 50%
}


def seed_appraisal_demo():
    """Load demo templates and cycles; call after demo.seed_demo(). Flushes; the caller commits."""
    people = {u.email.split("@")[0]: u for u in db.session.execute(select(User)).scalars()}
    hr = people["hr"]
    templates = seed_templates(hr)
    q3 = make_cycle(hr, "2026 Q3", date(2026, 7, 1), date(2026, 9, 30), templates, people)
    complete_q3(q3, people, random.Random(2026_3))
    q4 = make_cycle(hr, "2026 Q4", date(2026, 10, 1), date(2026, 12, 31), templates, people)
    spread_q4(q4, people, random.Random(2026_4))
    db.session.flush()
    return {"templates": len(templates), "q3": q3.id, "q4": q4.id}


def seed_templates(hr):
    positions = {p.title: p for p in db.session.execute(select(Position)).scalars()}
    templates = seed_stock_templates(hr, positions)
    marketplace = services.copy_template(templates["amazon-ops"], hr, code="marketplace-ops",
                                         name="Marketplace operations specialist / 平台运营")
    services.assign_template(marketplace, hr, positions["Marketplace operations specialist"].id)
    templates["marketplace-ops"] = marketplace
    return templates


def make_cycle(hr, name, start, end, templates, people):
    departments = {d.name: d for d in db.session.execute(select(Department)).scalars()}
    participants = [{"department_id": departments[n].id} for n in DEPARTMENTS]
    participants.append({"person_id": people["intern"].id, "template_id": templates["new-hire-growth"].id})
    cycle = services.create_cycle(
        hr, name=name, kind="quarterly", period_start=start, period_end=end, participants=participants,
        deadlines={"targets_due": start.replace(day=10), "approval_due": start.replace(day=15),
                   "self_review_due": end, "manager_review_due": end, "calibration_due": end})
    services.start_cycle(cycle.id, hr.id)
    return cycle


def cards_of(cycle):
    query = select(Scorecard).where(Scorecard.cycle_id == cycle.id).order_by(Scorecard.person_id)
    return list(db.session.execute(query).scalars())


def complete_q3(cycle, people, rng):
    hr, admin = people["hr"], people["admin"]
    for card in cards_of(cycle):
        advance(card, S.CALIBRATION, hr, rng, date(2026, 9, 30))
    calibrate_to_quota(cycle, hr)
    for card in cards_of(cycle):
        services.lock(card, hr)
    han = card_for(cycle, people["han.mei"])
    services.acknowledge(han, han.person, objection=True,
                         comment="GMV misses the B2B orders imported late (AMZ-US, 12-19 Sept).")
    appeal = services.appeal_of(han)
    services.answer_appeal(appeal, hr, "Checked with the import log: the B2B orders of 12-19 Sept came late.")
    reopened = services.reopen_from_appeal(appeal, admin,
                                           "B2B orders from 12-19 Sept were missing from the GMV import.")
    override_first_metric(reopened, han.person.manager, "Late B2B orders added after the corrected import.")
    services.apply_action(reopened.id, Action.SUBMIT_MANAGER_REVIEW, han.person.manager)
    calibrate_to_quota(cycle, hr)
    services.lock(reopened, hr)
    for card in cards_of(cycle):
        # li.lei has not acknowledged yet: the demo's employee who may still appeal
        if card.person_id not in (han.person_id, people["li.lei"].id) and rng.random() < 0.7:
            services.acknowledge(card, card.person)
    services.close_cycle(cycle, hr)


def calibrate_to_quota(cycle, hr):
    """HR's calibration: where a grade is over its quota, the lowest totals drop one grade.
    Locked results are fixed, so they keep their place first."""
    bands = services.grade_bands(cycle.grade_table)
    cards = [c for c in cards_of(cycle) if not services.is_superseded(c)]
    cards.sort(key=lambda c: (not c.is_locked, -services.current_result(c)[0]))
    for band, lower in zip(bands, bands[1:]):
        if band.max_share is None:
            continue
        holders = [c for c in cards if grade_now(c) == band.grade]
        for card in holders[int(band.max_share * len(cards)):]:
            services.calibrate(card, hr, lower.grade, f"Grade {band.grade} is capped at {band.max_share:.0%} "
                                                      "of the cycle; next best results in the company.")


def grade_now(card):
    return card.grade if card.is_locked else services.current_result(card)[1]


def spread_q4(cycle, people, rng):
    hr = people["hr"]
    logins = {u.id: login for login, u in people.items()}
    for n, card in enumerate(cards_of(cycle)):
        login = logins[card.person_id]
        state = Q4_STATES.get(login, ROTATION[n % len(ROTATION)])
        if state == S.RETURNED:
            advance(card, S.SUBMITTED, hr, rng, date(2026, 11, 26))
            services.apply_action(card.id, Action.RETURN_, card.person.manager,
                                  reason="GMV target below last quarter's actual; please raise it.")
            raise_gmv(card, login)
            continue
        raise_gmv(card, login)
        advance(card, state, hr, rng, date(2026, 11, 26))
    emma = card_for(cycle, people["emma"])
    services.request_change(emma, emma.person, {emma.items[0].id: {"target": "90000"}},
                            "Two best sellers are out of stock at the FBA warehouse until mid-December.")


def raise_gmv(card, login):
    """The owner's own, higher GMV target (Q4_GMV_RAISED), while the card can still be edited."""
    if login in Q4_GMV_RAISED:
        gmv = next(i for i in card.items if i.metric_key == "gmv")
        services.update_items(card, card.person, {gmv.id: Q4_GMV_RAISED[login]})


def card_for(cycle, person):
    query = select(Scorecard).where(Scorecard.cycle_id == cycle.id, Scorecard.person_id == person.id)
    return db.session.execute(query.order_by(Scorecard.version.desc())).scalars().first()


def advance(card, state, hr, rng, as_of):
    """Walk `card` forward to `state` as the people who would really act."""
    while ORDER.index(card.state) < ORDER.index(state):
        step(card, hr, rng, as_of)


def step(card, hr, rng, as_of):
    owner, manager = card.person, card.person.manager
    if card.state == S.DRAFT:
        services.apply_action(card.id, Action.SUBMIT, owner)
    elif card.state == S.SUBMITTED:
        services.apply_action(card.id, Action.APPROVE, manager)
    elif card.state == S.APPROVED:
        set_demo_actuals(card, rng, as_of)
        services.apply_action(card.id, Action.OPEN_REVIEW, hr)
    elif card.state == S.SELF_REVIEW:
        self_review(card, rng)
        services.apply_action(card.id, Action.SUBMIT_SELF_REVIEW, owner)
    elif card.state == S.MANAGER_REVIEW:
        manager_review(card, rng)
        services.apply_action(card.id, Action.SUBMIT_MANAGER_REVIEW, manager)


def set_demo_actuals(card, rng, as_of):
    for item in card.items:
        if not item.is_manual:
            services.set_actual(item, demo_value(item, rng), as_of,
                                {"source": "demo", "note": "demo value; metric imports compute the real one"})


def demo_value(item, rng):
    kind = item.rule["kind"]
    if kind == "bands":
        return Decimal(rng.randint(15, 95))
    if kind == "pass_fail":
        return round_like(item.target * Decimal(str(rng.uniform(0.5, 1.3))), item.target)
    span = item.stretch - item.threshold  # negative for lower-is-better: the formula still holds
    return round_like(item.threshold + span * Decimal(str(rng.uniform(0.25, 1.05))), item.target)


def round_like(value, reference):
    return value.quantize(Decimal("0.0001") if abs(reference) < 10 else Decimal(1))


def self_review(card, rng):
    scores = {i.id: {"self_score": str(rng.choice([3, 4, 4, 5])), "self_comment": "See the weekly reports."}
              for i in card.items if i.is_manual}
    services.save_self_review(card, card.person, comment="Targets mostly met; details per item.",
                              items=scores)


def manager_review(card, rng):
    scores = {i.id: {"manager_score": str(rng.choice([2, 3, 4, 4, 5]))} for i in card.items if i.is_manual}
    services.save_manager_review(card, card.person.manager,
                                 comment="Solid quarter; keep improving ad efficiency.", items=scores)


def override_first_metric(card, manager, reason):
    item = next(i for i in card.items if not i.is_manual)
    points = min((item.computed_points or Decimal(0)) + 10, Decimal(item.rule.get("cap") or 120))
    services.save_manager_review(card, manager, items={item.id: {"manager_score": str(points),
                                                                 "override_reason": reason}})
