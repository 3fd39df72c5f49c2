"""The OKR attainment item of a scorecard (docs/objectives.md, "OKR attainment in the scorecard").

OKRs stay out of pay unless a cycle sets `okr_weight`; then each scorecard of the cycle has
one item of kind `okr` whose actual is the weighted progress (0..100) of the key results the
person owns under objectives whose period overlaps the cycle's, as `progress.rollup` weighs
them. Its provenance names those key results with their progress and weight.

A recompute of many scorecards reads the key results of all their people at once
(`attainments`: one query per distinct cycle period) and looks each card up by `OkrScope`.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kpiapp.extensions import db
from kpiapp.models import KeyResult, Objective
from kpiapp.models.objectives import ObjectiveStatus
from kpiapp.objectives import progress as calc

SOURCE = "okr"
PEOPLE_PER_QUERY = 500  # keeps IN lists far below SQLite's bound-parameter limit


@dataclass(frozen=True)
class OkrScope:
    person_id: int
    period_start: date
    period_end: date


def owned_key_results(person_ids, period_start, period_end):
    """The key results these people own under objectives (not cancelled) overlapping the period."""
    query = (select(KeyResult).join(Objective, KeyResult.objective_id == Objective.id)
             .where(KeyResult.owner_id.in_(person_ids), Objective.status != ObjectiveStatus.cancelled,
                    Objective.period_start <= period_end, Objective.period_end >= period_start)
             .options(joinedload(KeyResult.objective)).order_by(Objective.id, KeyResult.seq, KeyResult.id))
    return db.session.execute(query).scalars().all()


def attainment(person_id, period_start, period_end):
    """(value, data_as_of, provenance) of a person's OKR attainment for a period."""
    return attainment_of(owned_key_results([person_id], period_start, period_end), period_start, period_end)


def attainments(scopes):
    """{OkrScope: attainment} for many people: one query per distinct period."""
    by_period, found = defaultdict(set), {}
    for scope in scopes:
        by_period[(scope.period_start, scope.period_end)].add(scope.person_id)
    for (start, end), people in by_period.items():
        owned, people = defaultdict(list), sorted(people)
        for first in range(0, len(people), PEOPLE_PER_QUERY):
            for kr in owned_key_results(people[first:first + PEOPLE_PER_QUERY], start, end):
                owned[kr.owner_id].append(kr)
        found.update((OkrScope(person, start, end), attainment_of(owned[person], start, end)) for person in people)
    return found


def attainment_of(krs, period_start, period_end):
    """(value, data_as_of, provenance) from the key results a person owns for the period."""
    result = calc.rollup([(dec(kr.progress), Decimal(kr.weight)) for kr in krs])
    provenance = {"source": SOURCE, "period": [period_start.isoformat(), period_end.isoformat()],
                  "key_results": [kr_line(kr) for kr in krs], "weight_covered": str(result.weight_covered),
                  "reason": no_value_reason(krs, result)}
    dates = [kr.data_as_of for kr in krs if kr.data_as_of is not None]
    return result.progress, max(dates) if dates else None, provenance


def kr_line(kr):
    return {"id": kr.id, "title": kr.title, "objective_id": kr.objective_id, "objective": kr.objective.title,
            "progress": None if kr.progress is None else str(kr.progress), "weight": str(kr.weight)}


def no_value_reason(krs, result):
    if not krs:
        return "no_key_results"
    return "no_progress" if result.progress is None else None


def dec(value):
    return None if value is None else Decimal(value)
