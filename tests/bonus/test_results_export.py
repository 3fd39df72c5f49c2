"""The results rows (docs/bonus.md): overrides, calibration, acknowledgement and appeal columns,
and who may see a bonus line (policy.can_view_bonus)."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import true

from kpiapp.appraisal import results, services
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import Role
from kpiapp.policy import can_view_bonus
from tests.appraisal.factories import make_team, metric_item, walk_to


def test_override_calibration_objection_and_appeal_are_exported():
    team = make_team(size=2)
    first, second = team.people
    card = walk_to(team, first, S.MANAGER_REVIEW)
    services.save_manager_review(card, team.manager, items={metric_item(card).id: {
        "manager_score": "115", "override_reason": "=late B2B orders"}})
    db.session.commit()
    walk_to(team, first, S.CALIBRATION)
    walk_to(team, second, S.CALIBRATION, manager_score="2")  # 66 + 16 = 82: B
    services.calibrate(team.card(second), team.hr, "C", "Grade B is over its quota.")
    db.session.commit()
    for person in team.people:
        services.lock(team.card(person), team.hr)
    services.acknowledge(team.card(first), first, objection=True, comment="GMV misses late orders.")
    db.session.commit()
    rows = {(r["person_id"], r["item"]): r for r in results.result_rows(team.cycle, true())}
    gmv = rows[(str(first.id), "GMV")]
    # GMV overridden to 115 points, teamwork 4 of 5 = 80: 0.6 x 115 + 0.4 x 80 = 101.00, grade S
    assert (gmv["points"], gmv["override_reason"], gmv["total"], gmv["grade"], gmv["coefficient"]) == (
        "115.00", "=late B2B orders", "101.00", "S", "1.500")
    assert (gmv["acknowledgement"], gmv["appeal"]) == ("objection", "open")
    other = rows[(str(second.id), "GMV")]
    assert (other["total"], other["grade"], other["coefficient"], other["calibrated_grade"],
            other["calibration_reason"], other["acknowledgement"], other["appeal"]) == (
        "82.00", "C", "0.600", "C", "Grade B is over its quota.", "none", None)
    header, cells = results.as_table(list(rows.values()))
    assert header == results.COLUMNS and len(cells) == 4 and all(len(c) == len(header) for c in cells)


def test_rows_before_the_lock_show_the_result_so_far_and_nothing_when_incomplete():
    team = make_team(size=2)
    walk_to(team, team.people[0], S.CALIBRATION)  # 66 + 32 = 98 so far
    rows = results.result_rows(team.cycle, true())
    by_person = {r["person_id"]: (r["state"], r["total"], r["grade"]) for r in rows}
    assert by_person == {str(team.people[0].id): ("calibration", "98.00", "S"),
                         str(team.people[1].id): ("draft", None, None)}


def principal(role, user_id=1, active=True):
    return SimpleNamespace(id=user_id, role=role, active=active)


def line(person_id, frozen):
    when = datetime(2026, 10, 8, tzinfo=timezone.utc) if frozen else None
    return SimpleNamespace(person_id=person_id, cycle=SimpleNamespace(bonus_frozen_at=when))


@pytest.mark.rollback  # pure: no database of its own
def test_who_sees_a_bonus_line():
    expected = {  # (principal, frozen): sees person 1's line
        ("owner", False): False, ("owner", True): True, ("other employee", True): False,
        ("owner, deactivated", True): False, ("hr", False): True, ("admin", True): True, ("client", True): False,
    }
    users = {"owner": principal(Role.employee), "other employee": principal(Role.employee, 2),
             "owner, deactivated": principal(Role.employee, active=False), "hr": principal(Role.hr, 3),
             "admin": principal(Role.admin, 4), "client": principal(Role.client, 1)}
    got = {(who, frozen): can_view_bonus(users[who], line(1, frozen)) for who, frozen in expected}
    assert got == expected
