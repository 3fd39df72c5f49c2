"""The demo's tasks (kpiapp/demo/tasks.py) go through the real services: open work for the
Amazon NA team, one started and one done, a checklist ticked, comments with mentions."""
import pytest

from kpiapp import demo
from kpiapp.audit import SYSTEM, set_actor
from kpiapp.extensions import db
from kpiapp.models import Comment, Notification, Task
from kpiapp.objectives.task_flow import TaskStatus

pytestmark = pytest.mark.rollback


def test_demo_tasks(app):
    set_actor(SYSTEM)
    demo.seed_organisation()
    made = demo.seed_tasks()
    statuses = sorted(t.status.value for t in db.session.query(Task))
    assert statuses == sorted([TaskStatus.IN_PROGRESS, TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.OPEN])
    assert made[0].checklist[0].done and db.session.query(Comment).count() == 2
    told = {n.user_id for n in db.session.query(Notification).filter_by(key="comment.mention")}
    assert told == {made[0].assignee_id, made[0].creator_id}
