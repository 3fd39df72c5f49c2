"""Plain JSON shapes of cycles and scorecards (numbers as strings, like the audit log)."""

from kpiapp.appraisal import services


def num(value):
    return None if value is None else str(value)


def date(value):
    return value.isoformat() if value is not None else None


def cycle_json(cycle, counts=None):
    data = {
        "id": cycle.id,
        "name": cycle.name,
        "kind": str(cycle.kind),
        "status": str(cycle.status),
        "period_start": date(cycle.period_start),
        "period_end": date(cycle.period_end),
        "hr_approval_required": cycle.hr_approval_required,
        "deadlines": {name: date(getattr(cycle, name)) for name in services.DEADLINES},
        "grade_table": cycle.grade_table,
        "okr_weight": None if cycle.okr_weight is None else str(cycle.okr_weight),
    }
    if counts is not None:
        data["scorecards_by_state"] = counts
    return data


ITEM_FIELDS = ("id", "seq", "name", "kind", "metric_key", "description", "tag", "revision")
ITEM_NUMBERS = (
    "weight",
    "threshold",
    "target",
    "stretch",
    "actual",
    "computed_points",
    "self_score",
    "manager_score",
    "final_points",
)


def item_json(item):
    data = {name: getattr(item, name) for name in ITEM_FIELDS}
    data.update({name: num(getattr(item, name)) for name in ITEM_NUMBERS})
    data.update(
        kind=str(item.kind),
        tag=str(item.tag),
        rule=item.rule,
        data_as_of=date(item.data_as_of),
        explanation=item.explanation,
        self_comment=item.self_comment,
        manager_comment=item.manager_comment,
        override_reason=item.override_reason,
    )
    return data


def scorecard_summary(card):
    return {
        "id": card.id,
        "cycle_id": card.cycle_id,
        "person": {"id": card.person_id, "name": card.person.name},
        "version": card.version,
        "state": str(card.state),
        "version_id": card.version_id,
        "total": num(card.total),
        "grade": card.grade,
        "locked_at": date(card.locked_at),
    }


def scorecard_json(card, user):
    data = scorecard_summary(card)
    permitted = services.permitted(card, user)
    data.update(
        superseded=services.is_superseded(card),
        allowed_actions=[str(a) for a in permitted.actions],
        allowed_edits=[str(e) for e in permitted.edits],
        self_comment=card.self_comment,
        manager_comment=card.manager_comment,
        calibrated_grade=card.calibrated_grade,
        bonus_coefficient=num(card.bonus_coefficient),
        items=[item_json(i) for i in card.items],
        events=[
            {
                "action": e.action,
                "from": e.old_state,
                "to": e.new_state,
                "actor_id": e.actor_id,
                "reason": e.reason,
                "at": date(e.at),
            }
            for e in card.events
        ],
    )
    return data
