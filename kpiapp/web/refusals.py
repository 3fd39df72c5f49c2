"""Refused requests: the route hook that asks the policy, and the audit of every refusal."""
from flask import abort, current_app, request
from flask_login import current_user

from kpiapp import audit, policy
from kpiapp.audit import actor_for
from kpiapp.extensions import db


def enforce_route_rule():
    """before_request hook: refuse unclassified endpoints and unauthorised users."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    rule = policy.route_rule(request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no policy rule", request.endpoint)
        abort(403)
    if policy.rule_allows(current_user, rule):
        return None
    if not current_user.is_authenticated:
        if request.blueprint == "api":
            abort(401)  # machines get a JSON 401 (the API's error handler), not a login page
        from kpiapp.auth.session import login_redirect

        return login_redirect()
    deny(f"route:{request.endpoint}")


def deny(what):
    """Refuse with 403; a refused write is audited (throttled)."""
    if request.method in policy.WRITE_METHODS:
        db.session.rollback()
        audit.record_refusal(db.session, "access.denied", "route", None, what,
                             detail={"path": request.path, "method": request.method})
        db.session.commit()
    abort(403)


def audit_refusal(error, entity, entity_id=None):
    """Roll a refused service call back and audit the refusal (throttled) in a commit of its own.
    `error` has a stable `code` and an HTTP `status` (AppraisalError, ReportError)."""
    db.session.rollback()
    action = "access.denied" if error.status in (401, 403, 404) else "workflow.refused"
    audit.record_refusal(db.session, action, entity, entity_id, error.code,
                         detail=refusal_detail(error.status))
    db.session.commit()


def refusal_detail(status):
    return {"status": status, "path": request.path, "method": request.method}


def record_object_refusal(error):
    """Audit a policy.ObjectRefused (throttled) in a transaction of its own; the user sees a 404."""
    db.session.rollback()
    audit.record_refusal(db.session, "access.denied", error.entity, error.entity_id,
                         f"object:{error.action}", detail=refusal_detail(404))
    db.session.commit()


def record_csrf_failure():
    db.session.rollback()
    audit.record_refusal(db.session, "access.denied", "request", None, "csrf_failed",
                         actor=actor_for(current_user), detail=refusal_detail(400))
    db.session.commit()
