"""Inbox: what is waiting for me, and my unread notifications."""

from flask import Blueprint, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp.appraisal import notifications
from kpiapp.appraisal.routes.common import back_or_fragment
from kpiapp.appraisal.routes.forms import MarkReadForm
from kpiapp.extensions import db
from kpiapp.policy import STAFF, allow
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import render_page_or_fragment

bp = Blueprint("inbox", __name__)


@bp.route("/")
@allow(STAFF)
@kept_page("notification")
def index():
    box = notifications.inbox(current_user)
    return render_page_or_fragment("inbox/index.html", "inbox/_notifications.html", box=box)


@bp.route("/read", methods=["POST"])
@allow(STAFF)
def mark_read():
    form = MarkReadForm()
    ids = (form.notification_id.data or []) if form.validate() else []
    count = notifications.mark_read(current_user, ids)
    db.session.commit()
    return back_or_fragment(
        "inbox/_notifications.html",
        url_for(".index"),
        message=_("%(n)s marked as read.", n=count),
        box=notifications.inbox(current_user),
    )
