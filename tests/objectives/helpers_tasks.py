"""A team with a person objective and key result, shared by the task and comment tests."""
from dataclasses import dataclass
from datetime import date

from kpiapp.extensions import db
from kpiapp.models import KeyResult, KrKind, Objective, ObjectiveLevel, PeriodKind
from tests.appraisal.factories import make_team
from tests.factories import UserFactory


@dataclass
class Crew:
    team: object
    worker: object   # a person below the manager
    peer: object     # the worker's teammate
    outsider: object  # someone outside the line
    kr: object       # a key result of the worker's (private) person objective

    @property
    def manager(self):
        return self.team.manager

    @property
    def hr(self):
        return self.team.hr


def make_crew():
    team = make_team(size=2)
    worker, peer = team.people
    outsider = UserFactory(name="Zhou Outsider", email="zhou.outsider@example.com")
    objective = Objective(title="Grow DE", level=ObjectiveLevel.person, owner_id=worker.id, shared=False,
                          period_kind=PeriodKind.quarter, period_start=date(2026, 10, 1),
                          period_end=date(2026, 12, 31))
    kr = KeyResult(objective=objective, title="GMV DE 300k", kind=KrKind.manual, owner_id=worker.id,
                   start_value=0, target=300000)
    db.session.add_all([objective, kr])
    db.session.commit()
    return Crew(team, worker, peer, outsider, kr)
