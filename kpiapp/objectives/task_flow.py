"""The task state machine (docs/objectives.md, "Tasks"), a FlowTable.

    open ─start─> in_progress ─finish─> done
      │                 └─drop─> dropped          done | dropped ─reopen─> open
      ├─finish─> done
      └─drop─> dropped (with a reason)

Who may move a task (TaskParty) comes from policy.task_parties.
"""
from __future__ import annotations

from enum import StrEnum

from kpiapp.flow_table import FlowTable, transition
from kpiapp.i18n import N_, LabelledEnum


class TaskStatus(LabelledEnum):
    OPEN = "open", N_("To do")
    IN_PROGRESS = "in_progress", N_("In progress")
    DONE = "done", N_("Done")
    DROPPED = "dropped", N_("Dropped")


class TaskStep(LabelledEnum):
    START = "start", N_("Start")
    FINISH = "finish", N_("Mark done")
    DROP = "drop", N_("Drop")
    REOPEN = "reopen", N_("Reopen")


class TaskParty(StrEnum):
    WORKER = "worker"  # the assignee, the creator, the assignee's managers, HR, admin


St, Step, P = TaskStatus, TaskStep, TaskParty

TRANSITIONS = {
    (St.OPEN, Step.START): transition(St.IN_PROGRESS, P.WORKER),
    (St.OPEN, Step.FINISH): transition(St.DONE, P.WORKER),
    (St.IN_PROGRESS, Step.FINISH): transition(St.DONE, P.WORKER),
    (St.OPEN, Step.DROP): transition(St.DROPPED, P.WORKER, text=True),
    (St.IN_PROGRESS, Step.DROP): transition(St.DROPPED, P.WORKER, text=True),
    (St.DONE, Step.REOPEN): transition(St.OPEN, P.WORKER),
    (St.DROPPED, Step.REOPEN): transition(St.OPEN, P.WORKER),
}

TASK_FLOW = FlowTable(TaskStep, TRANSITIONS)
CLOSED = frozenset({St.DONE, St.DROPPED})
