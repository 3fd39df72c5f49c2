"""Who is calling the API: a bearer token, else the browser session (whose writes need CSRF)."""

from datetime import timedelta

from flask import current_app, g, jsonify, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from kpiapp.api.routes import bp
from kpiapp.appraisal.services import AppraisalError, ConflictError
from kpiapp.audit import actor_for
from kpiapp.extensions import csrf, db
from kpiapp.models.api_tokens import ApiToken, hash_token
from kpiapp.models.base import utcnow
from kpiapp.policy import WRITE_METHODS, ObjectRefused
from kpiapp.web.refusals import audit_refusal, record_csrf_failure, record_object_refusal

TOUCH_EVERY = timedelta(minutes=10)


def api_error(status, code, message):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kpiapp"'
    return response


def find_token(secret):
    query = select(ApiToken).where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
    return db.session.execute(query).scalars().first()


def authenticate():
    """before_request (registered ahead of the policy hook) for /api/v1 requests."""
    if request.blueprint != "api":
        return None
    header = request.headers.get("Authorization", "")
    if not header:
        if request.method in WRITE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()  # a session-cookie write: same CSRF rule as every form
        return None
    scheme, _, secret = header.partition(" ")
    token = find_token(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
    if token is None or not token.user.active:
        return api_error(401, "unauthorized", "The bearer token is missing, unknown or revoked.")
    g._login_user = token.user  # Flask-Login's per-request user: no session is read or written
    g.api_token_id, g.audit_actor = token.id, actor_for(token.user)
    if token.last_used_at is None or utcnow() - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = utcnow()
        db.session.commit()
    return None


@bp.after_request
def no_session_for_tokens(response):
    if g.get("api_token_id"):
        session.clear()
        session.modified = False
    return response


ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    500: "internal_error",
}


def http_error(error):
    status = getattr(error, "code", 500) or 500
    code = "csrf_failed" if isinstance(error, CSRFError) else ERRORS.get(status, "error")
    if code == "csrf_failed":
        record_csrf_failure()
    if isinstance(error, ObjectRefused):
        record_object_refusal(error)
    message = getattr(error, "description", None) or "Internal error."
    return api_error(status, code, message if status < 500 else "Internal error.")


def appraisal_error(error):
    """A refused service call (audited): its stable code, its status; a conflict also says who
    and when."""
    card_id = getattr(error, "scorecard_id", None) or (request.view_args or {}).get("scorecard_id")
    audit_refusal(error, "scorecard", card_id)
    details = {}
    if isinstance(error, ConflictError):
        details = {"changed_by": error.changed_by.name if error.changed_by is not None else None,
                   "changed_at": error.changed_at.isoformat() if error.changed_at else None}
    response = jsonify(error={"code": error.code, "message": error.message, **details})
    response.status_code = error.status
    return response


for _status in ERRORS:
    bp.register_error_handler(_status, http_error)
bp.register_error_handler(AppraisalError, appraisal_error)
