"""Who sees which scorecard: one object rule and the matching list filter."""
import pytest
from sqlalchemy import select

from kpiapp import policy
from kpiapp.appraisal.workflow import Relation
from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard
from tests.appraisal.factories import CycleFactory, make_team
from tests.factories import ClientUserFactory, UserFactory

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def visible_ids(user):
    return set(
        db.session.execute(select(Scorecard.id).where(policy.visible_scorecards_filter(user))).scalars()
    )


EXPECTED = {  # who: (relations, may see)
    "owner": ({Relation.OWNER}, True),
    "manager": ({Relation.MANAGER}, True),
    "boss": ({Relation.MANAGER}, True),  # anyone up the reporting line
    "peer": (set(), False),
    "hr": ({Relation.HR}, True),
    "admin": ({Relation.ADMIN}, True),
    "stranger": (set(), False),
    "client": (set(), False),
}


def test_scorecard_visibility():
    team = make_team(size=2)
    owner, peer = team.people
    card = team.card(owner)
    users = {
        "owner": owner, "manager": team.manager, "boss": team.boss, "peer": peer, "hr": team.hr,
        "admin": team.admin, "stranger": UserFactory(), "client": ClientUserFactory(),
    }
    for who, (relations, sees) in EXPECTED.items():
        user = users[who]
        assert policy.relations_of(user, card) == relations, who
        assert policy.can(user, "scorecard.view", card) is sees, who
        assert (card.id in visible_ids(user)) is sees, who


def test_inactive_users_have_no_relation():
    team = make_team(size=1)
    team.manager.active = False
    db.session.commit()
    assert policy.relations_of(team.manager, team.card(team.people[0])) == set()


def test_only_hr_and_admin_manage_templates_and_cycles():
    team = make_team(size=1)
    assert policy.can(team.hr, "template.manage", team.template)
    assert policy.can(team.admin, "cycle.manage", team.cycle)
    assert not policy.can(team.manager, "cycle.manage", team.cycle)


def test_cycle_visibility_follows_the_scorecards():
    team = make_team(size=2)
    other = CycleFactory()  # nobody in it: only HR and admins see it
    owner = team.people[0]
    who_sees = {
        "owner": (owner, {team.cycle.id}), "manager": (team.manager, {team.cycle.id}),
        "boss": (team.boss, {team.cycle.id}), "hr": (team.hr, {team.cycle.id, other.id}),
        "admin": (team.admin, {team.cycle.id, other.id}), "stranger": (UserFactory(), set()),
        "client": (ClientUserFactory(), set()),
    }
    for who, (user, cycles) in who_sees.items():
        seen = db.session.execute(select(Cycle.id).where(policy.visible_cycles_filter(user))).scalars()
        assert set(seen) == cycles, who


def test_team_scorecards_are_those_below_in_the_line():
    team = make_team(size=2)
    cards = {team.card(p).id for p in team.people}

    def team_ids(user):
        query = select(Scorecard.id).where(policy.team_scorecards_filter(user))
        return set(db.session.execute(query).scalars())

    assert team_ids(team.manager) == cards and team_ids(team.boss) == cards
    assert team_ids(team.people[0]) == set() and team_ids(team.hr) == set()
    assert team_ids(ClientUserFactory()) == set()
