"""Request plumbing shared by every blueprint: HTMX page-or-fragment, headers, errors."""
import secrets
import uuid

from flask import abort, current_app, g, render_template, request
from flask_login import current_user

from kpiapp import audit, policy, presentation
from kpiapp.audit import actor_for
from kpiapp.extensions import db


def is_fragment_request():
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page_or_fragment(page_template, fragment_template, status=200, **context):
    """The fragment for an HTMX request, else the whole page; both vary on HX-Request."""
    template = fragment_template if is_fragment_request() else page_template
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response


def attachment(body, filename, mimetype):
    """A download: always an attachment (security_headers adds no-store)."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def ui_lang():
    """'zh_CN' or 'en': the language services and PDFs take (babel says zh_Hans_CN)."""
    from flask_babel import get_locale

    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def register_filters(app):
    """The Jinja side of kpiapp.presentation, in the language being rendered (a PDF forces
    its own), so pages and signed reports format through the same functions."""
    app.jinja_env.filters.update(
        label=lambda member: presentation.label(member, ui_lang()),
        event_label=lambda action: presentation.event_label(action, ui_lang()),
        number=lambda value, places=2: presentation.number(value, ui_lang(), places),
        percent=lambda value, places=2: presentation.percent(value, ui_lang(), places),
    )
    # templates compare statuses with members (cycle.status == CycleStatus.closed), never literals
    from kpiapp.models.appraisal import ChangeStatus, CycleStatus, ItemKind, ScorecardState
    from kpiapp.models.jobs import JobStatus
    from kpiapp.models.metrics import ImportKind, ImportStatus
    from kpiapp.models.reports import BatchStatus, ReportKind

    for enum in (ScorecardState, CycleStatus, ChangeStatus, ItemKind, ImportStatus, ImportKind,
                 BatchStatus, ReportKind, JobStatus):
        app.jinja_env.globals[enum.__name__] = enum


def set_request_context():
    g.csp_nonce = secrets.token_urlsafe(16)
    g.audit_actor = actor_for(current_user)


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


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Strict-Transport-Security",
                       f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


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


def csrf_failed(error):
    """A failed CSRF check is a refused write: audit it (throttled), then the plain 400 page.
    Flask-WTF checks before set_request_context runs, so the actor is worked out here."""
    record_csrf_failure()
    return error_page(400)(error)


def record_csrf_failure():
    db.session.rollback()
    audit.record_refusal(db.session, "access.denied", "request", None, "csrf_failed",
                         actor=actor_for(current_user), detail=refusal_detail(400))
    db.session.commit()


def error_page(status):
    def handler(error):
        if isinstance(error, policy.ObjectRefused):
            record_object_refusal(error)
        error_id = uuid.uuid4().hex[:12]
        if status >= 500:
            current_app.logger.exception("error %s", error_id)
        return render_template("error.html", status=status, error_id=error_id), status

    return handler


class NavItem:
    def __init__(self, endpoint, label, rule, description=""):
        self.endpoint, self.label, self.rule, self.description = endpoint, label, rule, description


NAV = []


def add_nav(endpoint, label, rule, description=""):
    """Blueprints register their menu entries; the menu shows what the policy allows."""
    NAV.append(NavItem(endpoint, label, rule, description))


def nav_items():
    from flask import url_for

    from kpiapp.policy import rule_allows

    items = []
    for item in NAV:
        if rule_allows(current_user, item.rule):
            url = url_for(item.endpoint)
            items.append({"url": url, "label": item.label, "description": item.description,
                          "active": request.path.startswith(url)})
    return items
