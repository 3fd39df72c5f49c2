"""What reminders say, by message key (docs/reminders.md). The task names and dates in the
parameters are written in the recipient's language when the reminder is sent (services.py), for
e-mail and IM; the stage, the other people and the ISO date are stored beside them, so the inbox
writes them again in the reader's language of the moment (`localised`). Rows sent before have
only the written words and show them as they are.
The keys are registered in the notification layer's registries (kpiapp.notifications.messages)
when this module is imported: the cycle screens and the reminder services import it."""
from datetime import date

from flask_babel import format_date, gettext

from kpiapp.i18n import N_
from kpiapp.notifications.messages import LOCALISED_PARAMS
from kpiapp.notifications.messages import MESSAGES as REGISTRY

MESSAGES = {
    "reminder.before": N_("Please complete %(task)s for %(cycle)s by %(due)s (days left: %(days)s)."),
    "reminder.due": N_("Today (%(due)s) is the deadline for %(task)s for %(cycle)s."),
    "reminder.overdue": N_("Overdue: %(task)s for %(cycle)s was due on %(due)s (days overdue: %(days)s). "
                           "Please complete it now."),
    "reminder.escalation": N_("Escalation: %(task)s for %(cycle)s, due on %(due)s, is still open (days "
                              "overdue: %(days)s): %(people)s."),
    "reminder.team_at_risk": N_("At the current pace these items of your team will miss their threshold "
                                "in %(cycle)s: %(items)s."),
    "reminder.stale_connection": N_("The data of %(connection)s is older than its freshness setting "
                                    "(last data %(as_of)s): please check the connection."),
}

REGISTRY.update(MESSAGES)

# the step each stage asks for, as a noun phrase that fits "Please complete …"
TASKS = {
    "targets": N_("your targets"),
    "approval": N_("the approval of targets"),
    "self_review": N_("your self-review"),
    "manager_review": N_("the manager review"),
    "calibration": N_("the calibration"),
    "appeal": N_("the reply to an appeal"),
    "dispute": N_("the handling of a data dispute"),
    "at_risk": N_("the team's items at risk"),
}

# an actor's step on someone else's scorecard names whose: "the manager review (Li Lei, Emma)"
WITH_PEOPLE = N_("%(task)s (%(people)s)")

# the stage a log line is about, as cycle health lists it
STAGE_LABELS = {
    "targets": N_("Targets"),
    "approval": N_("Approval"),
    "self_review": N_("Self-review"),
    "manager_review": N_("Manager review"),
    "calibration": N_("Calibration"),
    "appeal": N_("Appeal"),
    "dispute": N_("Data dispute"),
    "at_risk": N_("Items at risk"),
}


def task_text(stage, others=()):
    """The step a reminder asks for, in the current language: "the manager review (Li Lei, Emma)"."""
    task = gettext(TASKS[stage])
    return gettext(WITH_PEOPLE, task=task, people=", ".join(others)) if others else task


def localised(params):
    """A stored reminder's params with its task and date in the current language."""
    if params.get("stage") in TASKS:
        params["task"] = task_text(params["stage"], params.get("others") or ())
    if params.get("due_on"):
        params["due"] = format_date(date.fromisoformat(params["due_on"]), "medium")
    return params


LOCALISED_PARAMS.update({key: localised for key in ("reminder.before", "reminder.due", "reminder.overdue",
                                                     "reminder.escalation")})
