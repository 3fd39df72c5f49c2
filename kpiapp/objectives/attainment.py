"""The OKR attainment item of a scorecard (docs/objectives.md, "OKR attainment in the scorecard").

OKRs stay out of pay unless a cycle sets `okr_weight`; then each scorecard of the cycle has
one item of kind `okr` whose actual is the weighted progress (0..100) of the key results the
person owns under objectives whose period overlaps the cycle's, as `progress.rollup` weighs
them. Its provenance names those key results with their progress and weight.
"""
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kpiapp.extensions import db
from kpiapp.models import KeyResult, Objective
from kpiapp.models.objectives import ObjectiveStatus
from kpiapp.objectives import progress as calc

SOURCE = "okr"


def owned_key_results(person_id, period_start, period_end):
    """The key results `person_id` owns under objectives (not cancelled) overlapping the period."""
    query = (select(KeyResult).join(Objective, KeyResult.objective_id == Objective.id)
             .where(KeyResult.owner_id == person_id, Objective.status != ObjectiveStatus.cancelled,
                    Objective.period_start <= period_end, Objective.period_end >= period_start)
             .options(joinedload(KeyResult.objective)).order_by(Objective.id, KeyResult.seq, KeyResult.id))
    return db.session.execute(query).scalars().all()


def attainment(person_id, period_start, period_end):
    """(value, data_as_of, provenance) of a person's OKR attainment for a period."""
    krs = owned_key_results(person_id, period_start, period_end)
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
