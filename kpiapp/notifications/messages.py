"""What a notification says, by its key, in zh and en: rendered at read or send time in the
reader's language (a notification stores its key and params, never the text).

Rows written before keys existed keep their English `message` and show it as it is.
"""
from flask import current_app
from flask_babel import force_locale, gettext

from kpiapp.i18n import N_

MESSAGES = {
    "scorecard.draft": N_("Draft your targets for %(cycle)s."),
    "scorecard.returned": N_("Your targets for %(cycle)s were returned: please revise and resubmit."),
    "scorecard.submitted": N_("%(person)s submitted targets for %(cycle)s: please approve or return them."),
    "scorecard.hr_approval": N_("%(person)s's targets for %(cycle)s need HR approval."),
    "scorecard.approved": N_("Your targets for %(cycle)s are approved."),
    "scorecard.self_review": N_("Self-review for %(cycle)s is open."),
    "scorecard.manager_review": N_("%(person)s's scorecard for %(cycle)s is ready for your review."),
    "scorecard.calibration": N_("%(person)s's scorecard for %(cycle)s is ready for calibration."),
    "scorecard.locked": N_("Your result for %(cycle)s is final: please acknowledge it."),
    "change_requested": N_("%(actor)s asks to change targets of %(person)s: %(reason)s"),
    "change_approved": N_("Your change request for %(cycle)s was approved."),
    "change_rejected": N_("Your change request for %(cycle)s was rejected."),
    "objection": N_("%(actor)s objects to the result for %(cycle)s: %(comment)s"),
    "appeal.raised": N_("%(actor)s appeals the result for %(cycle)s: %(reason)s"),
    "appeal.answered": N_("Your appeal for %(cycle)s was answered."),
    "appeal.closed": N_("Your appeal for %(cycle)s was closed; the result stands."),
    "dispute.raised": N_("%(actor)s disputes the number %(item)s of %(person)s (%(cycle)s): %(comment)s"),
    "dispute.corrected": N_("The disputed number %(item)s of %(person)s (%(cycle)s) was corrected."),
    "dispute.rejected": N_("The dispute on %(item)s of %(person)s (%(cycle)s) was rejected: %(reason)s"),
    "dispute.closed": N_("The dispute on %(item)s of %(person)s (%(cycle)s) was closed."),
    "dispute.lock_allowed": N_("HR allowed the lock of %(person)s (%(cycle)s) while the dispute on %(item)s "
                               "is open: %(reason)s"),
    "pace.at_risk": N_("At the current pace these items of %(cycle)s will miss their threshold: %(items)s."),
    # contract reports (kpiapp/contracts/notifications.py)
    "contract_report.sent": N_("The KPI report %(period)s of contract %(contract)s (revision %(revision)s) "
                               "is ready for your review."),
    "contract_report.disputed": N_("The client disputes %(clause)s in the KPI report %(period)s of contract "
                                   "%(contract)s: %(comment)s"),
    "contract_report.accepted": N_("The client accepted the KPI report %(period)s of contract %(contract)s "
                                   "(revision %(revision)s); the signed PDF is issued."),
    "comment.mention": N_("%(actor)s mentioned you in a comment on %(target)s."),
    "task.assigned": N_("%(actor)s gave you a task: %(target)s."),
}

# what each event kind is called on the preferences page
KINDS = {
    "scorecard": N_("Scorecard steps (targets, reviews, results)"),
    "change_request": N_("Target change requests"),
    "appeal": N_("Objections and appeals"),
    "dispute": N_("Data disputes"),
    "pace.at_risk": N_("At-risk KPIs"),
    "contract_report": N_("Contract KPI reports"),
    "comment.mention": N_("Mentions in comments"),
    "task.assigned": N_("Tasks given to me"),
    "reminder": N_("Deadline reminders"),
    "connector": N_("Data connector failures"),
}
OTHER_KIND = "other"

# key -> function(params) -> params: for messages whose params hold words or dates, which are put
# in the reader's language at read time as the message is (the reminders register theirs)
LOCALISED_PARAMS = {}
OTHER_LABEL = N_("Everything else")


def kind_group(kind):
    """The preferences group of an event kind: "scorecard.submitted" -> "scorecard"."""
    kind = kind or ""
    aliases = {"change_requested": "change_request", "change_approved": "change_request",
               "change_rejected": "change_request", "objection": "appeal"}
    if kind in aliases:
        return aliases[kind]
    for group in sorted(KINDS, key=len, reverse=True):
        if kind == group or kind.startswith(group + ".") or kind.startswith(group + "_"):
            return group
    return OTHER_KIND


def text(notification, locale=None):
    """What the notification says, in `locale` (default: the current request's language).
    A row whose key is unknown (written before keys existed) shows the text it was stored with."""
    message = MESSAGES.get(notification.key or "")
    if message is None:
        return notification.message or ""
    if locale is None:
        return render(message, notification)
    with force_locale(locale):
        return render(message, notification)


def reader_locale(user):
    """The language a message to `user` outside a page (e-mail, IM) is written in."""
    config = current_app.config
    return user.locale if user.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def render(message, notification):
    params = dict(notification.params or {})
    try:
        params = LOCALISED_PARAMS.get(notification.key, dict)(params)
        return gettext(message, **params)
    except (KeyError, TypeError, ValueError):  # params that no longer fit the message
        current_app.logger.warning("notification %s: params do not fit %r", notification.id, notification.key)
        return notification.message or str(notification.key)
