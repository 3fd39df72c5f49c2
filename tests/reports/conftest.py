import pytest

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import make_team, walk_to


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every report test runs inside the app (a fresh database and demo CA per test)."""
    return app


@pytest.fixture
def locked():
    """A team of two, the first (with a Chinese name) locked; the second locks on demand
    (cards[1] of `locked_pair`): walking a scorecard to locked is most of a test's set-up."""
    team = make_team(size=2)
    team.people[0].name = "李雷 Li Lei"
    db.session.commit()
    return team, (walk_to(team, team.people[0], S.LOCKED), None)


@pytest.fixture
def locked_pair(locked):
    team, (card, _none) = locked
    return team, (card, walk_to(team, team.people[1], S.LOCKED))
