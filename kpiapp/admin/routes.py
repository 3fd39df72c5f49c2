from datetime import datetime, time, timezone

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from kpiapp.audit import record, verify_chain
from kpiapp.audit_anchor import AnchorFileError, read_anchors
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, User
from kpiapp.org.forms import ConfirmForm
from kpiapp.policy import allow
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import render_page_or_fragment

bp = Blueprint("admin", __name__)

PAGE_SIZE = 100
# characters of an event's before/after shown in the list; the event alone (?seq=) shows all
SHOWN_JSON = 400


def parse_day(text, end=False):
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


def audit_query(args):
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc())
    for name, column in (("action", AuditEvent.action), ("entity", AuditEvent.entity),
                         ("actor", AuditEvent.actor)):
        if args.get(name):
            stmt = stmt.where(column.ilike(f"%{args[name].strip()}%"))
    if args.get("seq", type=int):
        stmt = stmt.where(AuditEvent.seq == args.get("seq", type=int))
    if args.get("entity_id"):
        stmt = stmt.where(AuditEvent.entity_id == args["entity_id"].strip())
    if parse_day(args.get("since")):
        stmt = stmt.where(AuditEvent.ts_utc >= parse_day(args["since"]))
    if parse_day(args.get("until"), end=True):
        stmt = stmt.where(AuditEvent.ts_utc <= parse_day(args["until"], end=True))
    return stmt


@bp.route("/audit")
@allow("audit.read")
@kept_page("audit_event")
def audit():
    before = request.args.get("before", type=int)
    stmt = audit_query(request.args)
    if before:
        stmt = stmt.where(AuditEvent.seq < before)
    events = db.session.execute(stmt.with_only_columns(*listed_columns(whole=bool(request.args.get("seq"))))
                                .limit(PAGE_SIZE)).all()
    older_url = None
    if len(events) == PAGE_SIZE:
        older_url = url_for("admin.audit", **{**request.args.to_dict(), "before": events[-1].seq})
    return render_page_or_fragment("admin/audit.html", "admin/_audit_rows.html", events=events,
                                   args=request.args, older_url=older_url)


def listed_columns(whole=False):
    """The list's columns, before/after cut to SHOWN_JSON characters in SQL with their full
    lengths beside them: one recompute's event names every item it changed (~120 KB at 2,000
    people), so a page of 100 events grew with the org to ~1 MB (issue 10)."""
    def cut(column):
        return (column if whole else func.substr(column, 1, SHOWN_JSON)).label(column.key)

    return (AuditEvent.seq, AuditEvent.ts_utc, AuditEvent.actor, AuditEvent.ip, AuditEvent.action,
            AuditEvent.entity, AuditEvent.entity_id, cut(AuditEvent.before_json), cut(AuditEvent.after_json),
            func.length(AuditEvent.before_json).label("before_len"),
            func.length(AuditEvent.after_json).label("after_len"))


@bp.route("/audit/verify", methods=["POST"])
@allow("audit.read")
def verify_audit():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        anchors = read_anchors()
    except AnchorFileError:
        flash(_("The audit anchor file cannot be read; check it on the server (kpi verify-audit)."), "error")
        return redirect(url_for("admin.audit"))
    report = verify_chain(db.session, anchors)
    if report.ok:
        flash(_("Audit chain intact: %(n)d events verified.", n=report.checked), "success")
    else:
        flash(_("Audit chain BROKEN at event %(seq)d: %(reason)s", seq=report.first_bad_seq,
                reason=report.reason), "error")
    return redirect(url_for("admin.audit"))


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@allow("users.manage")
def end_sessions(user_id):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user.rotate_session_token()
    record(db.session, "auth.sessions_ended", "user", user.id)
    db.session.commit()
    flash(_("All sessions of %(name)s have been ended.", name=user.name), "success")
    return redirect(url_for("org.person", person_id=user.id))
