"""Appraisal test data: people in a reporting line, a template, a started cycle.

Templates and cycles are made through the services (the only write path), so the
data is always valid; `walk_to` drives a scorecard to any state as the right people.
"""

import itertools
from dataclasses import dataclass, field
from datetime import date

import factory

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Role, Scorecard
from kpiapp.models.appraisal import Cycle
from tests.factories import Base, DepartmentFactory, PositionFactory, UserFactory


class HRFactory(UserFactory):
    role = Role.hr


class AdminFactory(UserFactory):
    role = Role.admin


class CycleFactory(Base):
    class Meta:
        model = Cycle

    name = factory.Sequence(lambda n: f"Cycle {n}")
    kind = "quarterly"
    period_start = date(2026, 10, 1)
    period_end = date(2026, 12, 31)
    grade_table = services.DEFAULT_GRADE_TABLE
    hr_approval_required = False


ITEMS = [
    {
        "kind": "metric",
        "metric_key": "gmv",
        "name": "GMV",
        "weight": "60",
        "threshold": "80000",
        "target": "100000",
        "stretch": "120000",
        "rule": {"kind": "linear", "cap": "120"},
    },
    {
        "kind": "manual",
        "name": "Teamwork",
        "weight": "40",
        "description": "Helps the team",
        "rule": {"kind": "manual", "scale_max": "5"},
    },
]


_codes = itertools.count(1)


def make_template(hr, position=None, items=ITEMS, code=None):
    code = code or f"tpl-{next(_codes)}"
    template = services.create_template(
        hr, code=code, name=f"Template {code}", items=items, position_id=position.id if position else None
    )
    db.session.commit()
    return template


@dataclass
class Team:
    hr: object
    hr2: object
    admin: object
    boss: object
    manager: object
    people: list
    position: object
    template: object
    cycle: object
    cards: dict = field(default_factory=dict)

    def card(self, person):
        """The latest scorecard version of `person` in the team's cycle."""
        return (
            db.session.query(Scorecard)
            .filter_by(cycle_id=self.cycle.id, person_id=person.id)
            .order_by(Scorecard.version.desc())
            .first()
        )


def make_team(size=2, hr_approval=False, items=ITEMS):
    """boss -> manager -> `size` people, one position with a template, a started cycle."""
    department, position = DepartmentFactory(), PositionFactory()
    hr, hr2, admin = HRFactory(department=department), HRFactory(department=department), AdminFactory()
    boss = UserFactory(department=department, position=None)
    manager = UserFactory(department=department, position=None, manager=boss)
    people = [UserFactory(department=department, position=position, manager=manager) for _ in range(size)]
    template = make_template(hr, position, items)
    cycle = services.create_cycle(
        hr,
        name="2026 Q4",
        kind="quarterly",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
        hr_approval_required=hr_approval,
        participants=[{"position_id": position.id}],
    )
    services.start_cycle(cycle.id, hr.id)
    db.session.commit()
    return Team(hr, hr2, admin, boss, manager, people, position, template, cycle)


def metric_item(card):
    return next(i for i in card.items if not i.is_manual)


def manual_items(card):
    return [i for i in card.items if i.is_manual]


ORDER = [S.DRAFT, S.SUBMITTED, S.APPROVED, S.SELF_REVIEW, S.MANAGER_REVIEW, S.CALIBRATION, S.LOCKED]


def walk_to(team, person, state, actual="110000", manager_score="4"):
    """Drive `person`'s scorecard forward to `state` through the services; commits each step."""
    card = team.card(person)
    while ORDER.index(_plain(card.state)) < ORDER.index(state):
        _step(team, card, actual, manager_score)
        db.session.commit()
    return card


def _plain(state):
    return {S.HR_APPROVAL: S.SUBMITTED, S.RETURNED: S.DRAFT}.get(state, state)


def _step(team, card, actual, manager_score):
    person, state = card.person, card.state
    if state in (S.DRAFT, S.RETURNED):
        services.apply_action(card.id, Action.SUBMIT, person)
    elif state == S.SUBMITTED:
        services.apply_action(card.id, Action.APPROVE, team.manager)
    elif state == S.HR_APPROVAL:
        services.apply_action(card.id, Action.HR_APPROVE, team.hr)
    elif state == S.APPROVED:
        services.set_actual(metric_item(card), actual, date(2026, 12, 31), {"source": "test"})
        services.apply_action(card.id, Action.OPEN_REVIEW, team.hr)
    elif state == S.SELF_REVIEW:
        services.save_self_review(
            card,
            person,
            comment="A good quarter.",
            items={i.id: {"self_score": "4"} for i in manual_items(card)},
        )
        services.apply_action(card.id, Action.SUBMIT_SELF_REVIEW, person)
    elif state == S.MANAGER_REVIEW:
        services.save_manager_review(
            card,
            team.manager,
            comment="Agreed.",
            items={i.id: {"manager_score": manager_score} for i in manual_items(card)},
        )
        services.apply_action(card.id, Action.SUBMIT_MANAGER_REVIEW, team.manager)
    elif state == S.CALIBRATION:
        services.apply_action(card.id, Action.LOCK, team.hr)
