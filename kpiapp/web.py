"""Request plumbing shared by every blueprint: HTMX page-or-fragment, headers, errors."""
import secrets
import uuid

from flask import current_app, g, render_template, request
from flask_login import current_user

from kpiapp import audit
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


def set_request_context():
    g.csp_nonce = secrets.token_urlsafe(16)
    g.audit_actor = actor_for(current_user)


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
