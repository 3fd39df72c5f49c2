"""Error pages: a reference id, no traceback; refusals behind a 404 or a CSRF 400 are audited."""
import uuid

from flask import current_app, render_template

from kpiapp import policy
from kpiapp.web.refusals import record_csrf_failure, record_object_refusal


def error_page(status):
    def handler(error):
        if isinstance(error, policy.ObjectRefused):
            record_object_refusal(error)
        error_id = uuid.uuid4().hex[:12]
        if status >= 500:
            current_app.logger.exception("error %s", error_id)
        return render_template("error.html", status=status, error_id=error_id), status

    return handler


def csrf_failed(error):
    """A failed CSRF check is a refused write: audit it (throttled), then the plain 400 page.
    Flask-WTF checks before set_request_context runs, so the actor is worked out here."""
    record_csrf_failure()
    return error_page(400)(error)
