"""Tasks (docs/objectives.md, "Tasks"): create with field errors, who may assign and move, the
lifecycle through TASK_FLOW, compare-and-set, the checklist, the lists, audit."""
from datetime import date, timedelta

import pytest

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Task
from kpiapp.objectives import tasks
from kpiapp.objectives.task_flow import TaskStatus, TaskStep
from tests.objectives.helpers_tasks import make_crew

pytestmark = pytest.mark.rollback


@pytest.fixture
def crew(app):
    return make_crew()


def task_events(task):
    rows = db.session.query(AuditEvent).filter_by(entity="task", entity_id=str(task.id)).order_by(AuditEvent.seq)
    automatic = {"task.insert", "task.update", "task.delete"}  # the ORM's own events, kept apart
    return [row.action for row in rows if row.action not in automatic]


def test_create_task_defaults_to_the_actor_and_audits(crew):
    task = tasks.create_task({"title": "  Call the 3PL  ", "due": "2026-11-20", "checklist": "quote\n\nbook"},
                             crew.worker)
    assert (task.title, task.assignee_id, task.creator_id, task.status) == (
        "Call the 3PL", crew.worker.id, crew.worker.id, TaskStatus.OPEN)
    assert task.due == date(2026, 11, 20)
    assert [i.text for i in task.checklist] == ["quote", "book"]
    assert "task.create" in task_events(task)


@pytest.mark.parametrize("values, code, field", [
    ({"title": " "}, "title_required", "title"),
    ({"title": "x" * 201}, "title_too_long", "title"),
    ({"title": "ok", "due": "20/11/2026"}, "due_invalid", "due"),
    ({"title": "ok", "assignee_id": "abc"}, "id_invalid", "assignee_id"),
])
def test_create_task_refuses_bad_input_with_the_field(crew, values, code, field):
    with pytest.raises(tasks.TaskError) as refused:
        tasks.create_task(values, crew.worker)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_manager_assigns_below_but_a_worker_not_to_a_peer(crew):
    task = tasks.create_task({"title": "Fix listing", "assignee_id": crew.worker.id}, crew.manager)
    assert task.assignee_id == crew.worker.id
    with pytest.raises(tasks.TaskError) as refused:
        tasks.create_task({"title": "Fix listing", "assignee_id": crew.peer.id}, crew.worker)
    assert (refused.value.code, refused.value.field) == ("assignee_not_allowed", "assignee_id")
    hr_task = tasks.create_task({"title": "Anyone", "assignee_id": crew.outsider.id}, crew.hr)
    assert hr_task.assignee_id == crew.outsider.id


def test_link_to_a_key_result_the_actor_may_see_only(crew):
    task = tasks.create_task({"title": "Push ads", "key_result_id": crew.kr.id}, crew.worker)
    assert task.key_result_id == crew.kr.id
    with pytest.raises(tasks.TaskError) as refused:  # a private person objective of someone else
        tasks.create_task({"title": "Peek", "key_result_id": crew.kr.id}, crew.peer)
    assert (refused.value.code, refused.value.field) == ("link_unknown", "key_result_id")
    card = crew.team.card(crew.worker)
    with pytest.raises(tasks.TaskError) as refused:
        tasks.create_task({"title": "Two", "key_result_id": crew.kr.id, "scorecard_item_id": card.items[0].id},
                          crew.worker)
    assert refused.value.code == "one_link"


def test_lifecycle_start_finish_reopen_drop(crew):
    task = tasks.create_task({"title": "Restock"}, crew.worker)
    assert tasks.permitted_task_steps(crew.worker, task) == (TaskStep.START, TaskStep.FINISH, TaskStep.DROP)
    tasks.move_task(task, "start", crew.worker)
    assert task.status == TaskStatus.IN_PROGRESS
    tasks.move_task(task, TaskStep.FINISH, crew.manager)  # the assignee's manager may move it too
    assert task.status == TaskStatus.DONE and task.done_at is not None
    tasks.move_task(task, "reopen", crew.worker)
    assert task.status == TaskStatus.OPEN and task.done_at is None
    with pytest.raises(tasks.TaskError) as refused:
        tasks.move_task(task, "drop", crew.worker, reason="  ")
    assert (refused.value.code, refused.value.field) == ("text_required", "reason")
    tasks.move_task(task, "drop", crew.worker, reason="Supplier gone")
    assert (task.status, task.drop_reason) == (TaskStatus.DROPPED, "Supplier gone")
    assert task_events(task)[-4:] == ["task.start", "task.finish", "task.reopen", "task.drop"]


def test_moves_refused_by_state_and_by_person(crew):
    task = tasks.create_task({"title": "Restock"}, crew.worker)
    with pytest.raises(tasks.TaskError) as refused:
        tasks.move_task(task, "reopen", crew.worker)
    assert refused.value.code == "not_allowed_in_state"
    for stranger in (crew.peer, crew.outsider):
        assert tasks.permitted_task_steps(stranger, task) == ()
        with pytest.raises(tasks.TaskError) as refused:
            tasks.move_task(task, "start", stranger)
        assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert task.status == TaskStatus.OPEN


def test_a_second_mover_from_the_old_state_is_refused(crew):
    task = tasks.create_task({"title": "Restock"}, crew.worker)
    db.session.commit()
    db.session.execute(Task.__table__.update().where(Task.id == task.id).values(status="done"))
    # `task` in memory still says open: the compare-and-set sees the row moved
    with pytest.raises(tasks.TaskError) as refused:
        tasks.move_task(task, "start", crew.worker)
    assert (refused.value.code, refused.value.status) == ("conflict", 409)


def test_edit_checklist_and_audit(crew):
    task = tasks.create_task({"title": "Restock"}, crew.worker)
    tasks.update_task(task, {"title": "Restock DE", "due": "2026-12-01"}, crew.worker)
    assert (task.title, task.due) == ("Restock DE", date(2026, 12, 1))
    item = tasks.add_check_item(task, "order cartons", crew.worker)
    tasks.set_check_item(task, item.id, True, crew.manager)
    assert item.done
    tasks.remove_check_item(task, item.id, crew.worker)
    assert task.checklist == []
    with pytest.raises(tasks.TaskError):
        tasks.add_check_item(task, "sneak", crew.peer)
    with pytest.raises(tasks.TaskError) as refused:
        tasks.update_task(task, {"assignee_id": crew.peer.id}, crew.worker)
    assert refused.value.field == "assignee_id"
    assert task_events(task) == ["task.create", "task.edit", "task.check_item_add", "task.check_item_done",
                                 "task.check_item_remove"]


def test_my_tasks_and_board_filters(crew):
    today = date(2026, 11, 18)  # a Wednesday
    late = tasks.create_task({"title": "Late", "due": today - timedelta(days=2)}, crew.worker)
    soon = tasks.create_task({"title": "Soon", "due": today + timedelta(days=7)}, crew.worker)
    other = tasks.create_task({"title": "Peer's", "assignee_id": crew.peer.id}, crew.manager)
    tasks.move_task(soon, "start", crew.worker)
    assert [t.title for t in tasks.my_tasks(crew.worker)] == ["Late", "Soon"]
    board = tasks.board(crew.manager, today=today)
    assert {t.id for t in board[TaskStatus.OPEN]} == {late.id, other.id}
    assert [t.id for t in board[TaskStatus.IN_PROGRESS]] == [soon.id]
    assert [t.id for t in tasks.board(crew.manager, due="overdue", today=today)[TaskStatus.OPEN]] == [late.id]
    next_week = tasks.board(crew.manager, due="next_week", today=today)
    assert [t.id for t in next_week[TaskStatus.IN_PROGRESS]] == [soon.id]
    assert tasks.board(crew.manager, person_id=crew.peer.id)[TaskStatus.OPEN] == [other]
    assert tasks.board(crew.manager, status="done")[TaskStatus.OPEN] == []
    seen_by_peer = tasks.board(crew.peer)
    assert {t.id for ts in seen_by_peer.values() for t in ts} == {other.id}
    assert tasks.get_task(late.id, crew.peer) is None and tasks.get_task(late.id, crew.manager) is late


def test_the_assignee_is_told_unless_they_gave_it_to_themself(crew):
    from kpiapp.appraisal import notifications
    from kpiapp.models import Notification

    def told(person):
        return db.session.query(Notification).filter_by(user_id=person.id, key="task.assigned").all()

    tasks.create_task({"title": "Mine"}, crew.worker)
    assert told(crew.worker) == []
    task = tasks.create_task({"title": "Call DHL", "assignee_id": crew.worker.id}, crew.manager)
    assert [n.params["target_id"] for n in told(crew.worker)] == [task.id]
    assert notifications.text(told(crew.worker)[0], "en") == f"{crew.manager.name} gave you a task: Call DHL."
    tasks.update_task(task, {"assignee_id": crew.peer.id, "title": "Call DHL today"}, crew.manager)
    assert len(told(crew.peer)) == 1 and len(told(crew.worker)) == 1
    tasks.update_task(task, {"assignee_id": str(crew.peer.id)}, crew.manager)  # unchanged: nobody told again
    assert len(told(crew.peer)) == 1
